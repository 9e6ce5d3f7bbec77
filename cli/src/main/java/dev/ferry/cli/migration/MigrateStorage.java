package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.MigrationView;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import dev.ferry.api.rules.Spelling;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migrate storage VM --to-pool POOL [--disk ID]... [--format qcow2|raw]
 * [--bandwidth MiB/s] [--no-adaptive-rate] [--verify full|none] [--keep-source] [--detach] [--json]}: one
 * {@code POST /api/migrations/storage}, then {@link MigrateVerb} follows it. Option names are a
 * contract (scripts use them); bad values are usage errors (exit 2) and nothing is sent.
 */
@Command(name = "storage",
    description = {"move a VM's disks to another pool on its host; a running VM keeps running (mirror, then pivot)",
        "", "Follows the migration until it ends (exit 0 succeeded, 1 failed or cancelled) unless --detach.",
        MigrateVerb.CTRL_C, MigrateVerb.CANCEL, ""})
final class MigrateStorage extends MigrateVerb {

  @Parameters(index = "0", paramLabel = "VM", description = "VM whose disks move")
  String vm;

  @Option(names = "--to-pool", required = true, paramLabel = "POOL", description = "pool the disks move to")
  String toPool;

  @Option(names = "--disk", paramLabel = "ID",
      description = "a disk to move, e.g. disk1; repeatable (default: every disk not already in POOL)")
  List<String> disks = new ArrayList<>();

  @Option(names = "--format", paramLabel = "qcow2|raw", converter = Converters.Format.class,
      description = "format of the new images (default: each disk keeps its own)")
  String format;

  @Option(names = "--bandwidth", paramLabel = "MiB/s", converter = Converters.Bandwidth.class,
      description = "cap the copy at this many MiB/s, e.g. 100 or 12.5, instead of the adaptive rate")
  Double bandwidth;

  @Option(names = "--no-adaptive-rate",
      description = {"copy at full speed; by default a running VM's copy slows down whenever the guest's disk writes",
          "take more than twice as long as just before it began (never below 16 MiB/s, so it always finishes)"})
  boolean noAdaptiveRate;

  @Option(names = "--verify", paramLabel = "full|none", defaultValue = "full", converter = Converters.Verify.class,
      description = "compare old and new images block by block after the pivot (default ${DEFAULT-VALUE})")
  String verify;

  @Option(names = "--keep-source", description = "keep the old images after a successful move")
  boolean keepSource;

  MigrateStorage(CliContext ctx) {
    super(ctx);
  }

  /** The controller's own rules ({@link MigrationRules}), so a mistake is caught here in the same words. */
  @Override
  protected void validate() {
    try {
      MigrationRules.checkStorage(request(), Spelling.CLI);
    } catch (RuleViolation v) {
      throw CliException.usage(v.getMessage());
    }
  }

  StorageMigrationRequest request() {
    return new StorageMigrationRequest(vm, toPool, List.copyOf(disks), format, bandwidth, verify, keepSource,
        noAdaptiveRate ? Boolean.FALSE : null);
  }

  @Override
  MigrationView start(ControllerClient api) {
    return api.post(ApiPaths.MIGRATIONS_STORAGE, request(), MigrationView.class);
  }
}
