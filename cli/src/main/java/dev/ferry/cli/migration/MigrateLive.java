package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.MigrationView;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import dev.ferry.api.rules.Spelling;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migrate live VM --to HOST [--max-downtime MS] [--bandwidth MiB/s]
 * [--postcopy never|auto|always] [--auto-converge] [--multifd N] [--compress none|xbzrle|zstd]
 * [--copy-storage] [--target-pool POOL] [--timeout DURATION] [--detach] [--dry-run] [--json]}: one
 * {@code POST /api/migrations/live}, then {@link MigrateVerb} follows it; with {@code --dry-run}
 * one {@code POST /api/migrations/live/dry-run} and its prediction printed, nothing started. Option names are a
 * contract (scripts use them); bad values are usage errors (exit 2) and nothing is sent.
 */
@Command(name = "live",
    description = {"move a running VM to another host while it runs (pre-copy; post-copy when it does not converge)",
        "", "Follows the migration until it ends (exit 0 succeeded, 1 failed or cancelled) unless --detach.",
        "Before the target resumes, a failure, a cancel or --timeout rolls back: the VM keeps running on its host.",
        MigrateVerb.CTRL_C, MigrateVerb.CANCEL, ""})
final class MigrateLive extends MigrateVerb {

  /**
   * The controller answers the start only once the target agent prepared (or after its own 20 s
   * wait, MigrationService.TARGET_WAIT), so that a target's refusal reaches the caller; the
   * client's default 10 s gave up first on a loaded host (the migration then ran without anyone
   * following it).
   */
  static final Duration START_TIMEOUT = Duration.ofSeconds(35);

  @Parameters(index = "0", paramLabel = "VM", description = "running VM to move")
  String vm;

  @Option(names = "--to", required = true, paramLabel = "HOST", description = "host the VM moves to")
  String to;

  @Option(names = "--max-downtime", paramLabel = "MS", defaultValue = "300", converter = Converters.Millis.class,
      description = "longest pause of the guest at switchover, in milliseconds (default ${DEFAULT-VALUE})")
  Long maxDowntime;

  @Option(names = "--bandwidth", paramLabel = "MiB/s", converter = Converters.Bandwidth.class,
      description = "cap the migration stream at this many MiB/s (default: no cap)")
  Double bandwidth;

  @Option(names = "--postcopy", paramLabel = "never|auto|always", converter = Converters.Postcopy.class,
      description = "switch to post-copy: never, auto when pre-copy does not converge (the last rung, where"
          + " it would otherwise be cancelled), always after the first pass (default: auto when the target host can"
          + " run post-copy and a measurement of the guest from the last 60 s, e.g. a --dry-run, says pre-copy would"
          + " stall, else never; once post-copy starts a lost QEMU can no longer give the vm back to the source)")
  String postcopy;

  @Option(names = "--auto-converge", description = "let QEMU slow the guest's vCPUs when it dirties memory too fast")
  boolean autoConverge;

  @Option(names = "--multifd", paramLabel = "N", converter = Converters.Channels.class,
      description = "send over N parallel channels (1-64)")
  Integer multifd;

  @Option(names = "--compress", paramLabel = "none|xbzrle|zstd", converter = Converters.Compress.class,
      description = "compress pages: xbzrle (repeated pages), zstd (needs --multifd) (default: none)")
  String compress;

  @Option(names = "--copy-storage", description = "copy disks that are not on a pool shared with the target host")
  boolean copyStorage;

  @Option(names = "--target-pool", paramLabel = "POOL",
      description = "pool on the target for copied disks (default: the pool of the same name; needs --copy-storage)")
  String targetPool;

  @Option(names = "--timeout", paramLabel = "DURATION", converter = Converters.Timeout.class,
      description = "give up and roll back after this long, e.g. 10m (default: no limit)")
  Duration timeout;

  @Option(names = "--dry-run", description = {"start nothing: run the same checks, measure the guest's dirty rate"
      + " for a second and print the predicted total time and downtime (with --json: the MigrationPrediction)"})
  boolean dryRun;

  MigrateLive(CliContext ctx) {
    super(ctx);
  }

  /** The controller's own rules ({@link MigrationRules}), so a mistake is caught here in the same words. */
  @Override
  protected void validate() {
    if (to.isBlank()) throw CliException.usage("to '" + to + "' is not valid: a host name");
    try {
      MigrationRules.checkLive(request(), Spelling.CLI);
    } catch (RuleViolation v) {
      throw CliException.usage(v.getMessage());
    }
  }

  LiveMigrationRequest request() {
    return new LiveMigrationRequest(vm, to, maxDowntime, bandwidth, postcopy, autoConverge, multifd, compress, copyStorage,
        targetPool, timeout == null ? null : timeout.toMillis());
  }

  @Override
  boolean preview(ControllerClient api) {
    if (!dryRun) return false;
    MigrationPrediction p = api.post(ApiPaths.MIGRATIONS_LIVE_DRY_RUN, request(), MigrationPrediction.class);
    if (json) printJson(p);
    else out().print(PredictionText.of(vm, to, p));
    return true;
  }

  @Override
  MigrationView start(ControllerClient api) {
    return api.post(ApiPaths.MIGRATIONS_LIVE, request(), MigrationView.class, START_TIMEOUT);
  }
}
