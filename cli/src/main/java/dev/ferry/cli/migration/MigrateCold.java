package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.ColdMigrationRequest;
import dev.ferry.api.MigrationView;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migrate cold VM --to HOST [--target-pool POOL] [--format qcow2|raw] [--shutdown
 * [--shutdown-timeout D]] [--start] [--bandwidth MiB/s] [--verify full|none] [--keep-source]
 * [--detach] [--json]}: one {@code POST /api/migrations/cold}, then {@link MigrateVerb} follows
 * it. Option names are a contract (scripts use them); bad values are usage errors (exit 2).
 */
@Command(name = "cold",
    description = {"move a stopped VM and its disks to another host (only allocated data is sent; both copies are"
        + " hashed and compared before the VM changes host)",
        "", "Follows the migration until it ends (exit 0 succeeded, 1 failed or cancelled) unless --detach.",
        MigrateVerb.CTRL_C, MigrateVerb.CANCEL, ""})
final class MigrateCold extends MigrateVerb {

  @Parameters(index = "0", paramLabel = "VM", description = "stopped VM to move")
  String vm;

  @Option(names = "--to", required = true, paramLabel = "HOST", description = "host the VM moves to")
  String to;

  @Option(names = "--target-pool", paramLabel = "POOL",
      description = "pool on the target for every disk (default: a pool of each disk's own pool name)")
  String targetPool;

  @Option(names = "--format", paramLabel = "qcow2|raw", converter = Converters.Format.class,
      description = "format of the new images (default: each disk keeps its own)")
  String format;

  @Option(names = "--shutdown", description = "ask a running VM's guest to power off (ACPI) first")
  boolean shutdown;

  @Option(names = "--shutdown-timeout", paramLabel = "DURATION", converter = Converters.DurationText.class,
      description = "how long the guest has to power off with --shutdown, e.g. 90s or 2m (default 2m)")
  String shutdownTimeout;

  @Option(names = "--start", description = "start the VM on the target once it is there")
  boolean start;

  @Option(names = "--bandwidth", paramLabel = "MiB/s", converter = Converters.Bandwidth.class,
      description = "cap the copy at this many MiB/s, e.g. 100 or 12.5 (default: no cap)")
  Double bandwidth;

  @Option(names = "--verify", paramLabel = "full|none", defaultValue = "full", converter = Converters.Verify.class,
      description = "hash both copies on their hosts and compare before the VM moves (default ${DEFAULT-VALUE})")
  String verify;

  @Option(names = "--keep-source", description = "keep the source's images after a successful move")
  boolean keepSource;

  MigrateCold(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void validate() {
    if (to.isBlank()) throw CliException.usage("to '" + to + "' is not valid: a host name");
    if (shutdownTimeout != null && !shutdown) {
      throw CliException.usage("--shutdown-timeout needs --shutdown");
    }
  }

  ColdMigrationRequest request() {
    return new ColdMigrationRequest(vm, to, targetPool, format, shutdown, shutdownTimeout, start, bandwidth, verify,
        keepSource);
  }

  @Override
  MigrationView start(ControllerClient api) {
    return api.post(ApiPaths.MIGRATIONS_COLD, request(), MigrationView.class);
  }
}
