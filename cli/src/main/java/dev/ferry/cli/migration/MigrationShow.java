package dev.ferry.cli.migration;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Sizes;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.MigrationText;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry migration show ID [--json]}: every field of one migration's record, sizes and
 * times in units people read; why it did not succeed when it did not.
 */
@Command(name = "show", description = "show one migration in detail")
final class MigrationShow extends ApiCommand {

  @Parameters(index = "0", paramLabel = "ID", description = "migration id")
  String id;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  MigrationShow(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    MigrationView m = api.get(MigrationCommand.path(ApiPaths.MIGRATION, id), MigrationView.class);
    if (json) {
      printJson(m);
    } else {
      print(m, out());
    }
  }

  static void print(MigrationView m, PrintWriter out) {
    field(out, "id", m.id());
    field(out, "kind", m.kind());
    field(out, "vm", m.vm());
    field(out, "source", m.source());
    field(out, "target", m.target());
    field(out, "disks", m.disks() == null || m.disks().isEmpty() ? null : String.join(", ", m.disks()));
    field(out, "status", HostList.lower(m.status()));
    field(out, "phase", m.phase());
    if (m.stuck() != null) field(out, "stuck", m.stuck());
    if (m.reason() != null && !m.reason().isBlank()) {
      // on success the controller may still say what it noticed on the way
      field(out, m.status() == MigrationStatus.SUCCEEDED ? "noticed" : "reason", m.reason());
    }
    field(out, "started", m.startedAt());
    field(out, "ended", m.endedAt());
    field(out, "total time", MigrationText.duration(m.totalMs()));
    field(out, "progress", MigrationText.percentText(m) + " (" + Sizes.format(m.transferredBytes()) + " of "
        + Sizes.format(m.totalBytes()) + ", " + Sizes.format(m.remainingBytes()) + " remaining)");
    field(out, "disk mirrored", Sizes.format(m.diskBytesMirrored()));
    field(out, "throughput", MigrationText.rate(m.throughputBytesPerS()));
    field(out, "dirty rate", m.dirtyRateBytesPerS() == null ? null : MigrationText.rate(m.dirtyRateBytesPerS()));
    field(out, "passes", m.passes());
    field(out, "eta", MigrationText.duration(m.etaMs()));
    field(out, "downtime", MigrationText.duration(m.downtimeMs()));
    field(out, "observed pause", MigrationText.duration(m.observedPauseMs()));
    field(out, "postcopy", m.postcopy() ? "yes" : "no");
    if (m.postcopyRecoveries() > 0) field(out, "link recovered", m.postcopyRecoveries() + " time(s)");
    if (m.escalations() != null && !m.escalations().isEmpty()) field(out, "policy", String.join("; ", m.escalations()));
    field(out, "verified", MigrationText.verified(m));
    if ("warm".equals(m.kind())) {
      field(out, "sent", Sizes.format(m.copiedBytes()) + " (skipped " + Sizes.format(m.skippedBytes())
          + " of holes and zeroes)");
      field(out, "dirty", Sizes.format(m.dirtyBytes()) + " since the last pass");
      field(out, "predicted", MigrationText.duration(m.predictedDowntimeMs()) + " of downtime");
      field(out, "shutdown", MigrationText.duration(m.shutdownMs()));
    }
  }

  private static void field(PrintWriter out, String label, Object value) {
    out.printf("%-16s%s%n", label + ":", value == null ? "-" : value);
  }
}
