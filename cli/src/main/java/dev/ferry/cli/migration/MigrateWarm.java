package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.MigrationView;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migrate warm VM --to HOST [--target-pool POOL] [--format qcow2|raw]
 * [--sync-interval D] [--cutover manual|at:TIME|auto] [--max-downtime MS] [--shutdown-timeout D]
 * [--bandwidth MiB/s] [--detach] [--json]}: one {@code POST /api/migrations/warm}, then
 * {@link MigrateVerb} follows it. Option names are a contract; bad values are usage errors (exit 2).
 */
@Command(name = "warm",
    description = {"move a running VM's disks to another host while it runs (passes of what the guest wrote), then"
        + " cut over with one shutdown and boot",
        "", "Follows the migration until it ends (exit 0 succeeded, 1 failed or cancelled) unless --detach.",
        "With --cutover manual (the default) it waits for: ferry migration cutover ID",
        MigrateVerb.CTRL_C, MigrateVerb.CANCEL, ""})
final class MigrateWarm extends MigrateVerb {

  @Parameters(index = "0", paramLabel = "VM", description = "running VM to move")
  String vm;

  @Option(names = "--to", required = true, paramLabel = "HOST", description = "host the VM moves to")
  String to;

  @Option(names = "--target-pool", paramLabel = "POOL",
      description = "pool on the target for every disk (default: a pool of each disk's own pool name)")
  String targetPool;

  @Option(names = "--format", paramLabel = "qcow2|raw", converter = Converters.Format.class,
      description = "format of the new images (default: each disk keeps its own)")
  String format;

  @Option(names = "--sync-interval", paramLabel = "DURATION", converter = Converters.DurationText.class,
      description = "pause between passes, e.g. 10s (default 5s)")
  String syncInterval;

  @Option(names = "--cutover", paramLabel = "manual|at:TIME|auto", defaultValue = "manual",
      description = "when to cut over: manual (ferry migration cutover ID), at:TIME (ISO-8601, e.g."
          + " at:2026-12-05T22:00:00Z) or auto (once the predicted downtime is within --max-downtime);"
          + " default ${DEFAULT-VALUE}")
  String cutover;

  @Option(names = "--max-downtime", paramLabel = "MS", converter = Converters.Millis.class,
      description = "the predicted downtime --cutover auto waits for, in ms (default 10000)")
  Long maxDowntime;

  @Option(names = "--shutdown-timeout", paramLabel = "DURATION", converter = Converters.DurationText.class,
      description = "how long the guest has to power off at the cutover, e.g. 90s or 2m (default 2m); a guest that"
          + " does not is never killed: the migration fails and the VM keeps running")
  String shutdownTimeout;

  @Option(names = "--bandwidth", paramLabel = "MiB/s", converter = Converters.Bandwidth.class,
      description = "cap the copy at this many MiB/s, e.g. 100 or 12.5 (default: no cap)")
  Double bandwidth;

  MigrateWarm(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void validate() {
    if (to.isBlank()) throw CliException.usage("to '" + to + "' is not valid: a host name");
    if (!cutover.equals("manual") && !cutover.equals("auto") && !cutover.startsWith("at:")) {
      throw CliException.usage("cutover '" + cutover + "' is not valid: manual, at:TIME or auto");
    }
    if (cutover.startsWith("at:")) {
      try {
        java.time.Instant.parse(cutover.substring(3));
      } catch (java.time.format.DateTimeParseException e) {
        throw CliException.usage("cutover '" + cutover + "' is not valid: at:TIME takes an ISO-8601 instant such as"
            + " at:2026-12-05T22:00:00Z");
      }
    }
    if (maxDowntime != null && !cutover.equals("auto")) throw CliException.usage("--max-downtime needs --cutover auto");
  }

  WarmMigrationRequest request() {
    return new WarmMigrationRequest(vm, to, targetPool, format, syncInterval, cutover, maxDowntime, shutdownTimeout,
        bandwidth);
  }

  @Override
  MigrationView start(ControllerClient api) {
    return api.post(ApiPaths.MIGRATIONS_WARM, request(), MigrationView.class);
  }
}
