package dev.ferry.cli.ft;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.FtStatusView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry ft status [VM] [--json]}: one VM's fault tolerance, or every protected VM's. */
@Command(name = "status", description = "fault tolerance of one VM, or of every VM under it")
final class FtStatus extends ApiCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "VM", description = "VM name (all when absent)")
  String vm;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  FtStatus(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    if (vm != null) {
      FtStatusView v = api.get(ApiPaths.FT_VM.replace("{name}", ControllerClient.seg(vm)), FtStatusView.class);
      if (json) printJson(v);
      else show(v);
      return;
    }
    List<FtStatusView> all = api.get(ApiPaths.FT, new TypeReference<List<FtStatusView>>() {});
    if (json) {
      printJson(all);
      return;
    }
    out().printf("%-16s %-12s %-10s %-10s %11s %13s%n", "VM", "STATE", "PRIMARY", "SECONDARY", "CHECKPOINTS",
        "PAUSE MED/MAX");
    for (FtStatusView v : all) {
      out().printf("%-16s %-12s %-10s %-10s %11d %13s%n", v.vm(), v.state(), v.primary(), dash(v.secondary()),
          v.checkpoints(), pause(v));
    }
  }

  private void show(FtStatusView v) {
    out().printf("%-18s%s%n", "vm:", v.vm());
    out().printf("%-18s%s (phase %s)%n", "state:", v.state(), v.phase());
    out().printf("%-18s%s%n", "primary:", v.primary());
    out().printf("%-18s%s%n", "secondary:", dash(v.secondary()));
    out().printf("%-18s%d ms%n", "interval:", v.checkpointIntervalMs());
    if (v.syncTotalBytes() != null && v.syncTotalBytes() > 0) {
      out().printf("%-18s%d of %d bytes%n", "synced:", v.syncedBytes(), v.syncTotalBytes());
    }
    out().printf("%-18s%d%n", "checkpoints:", v.checkpoints());
    out().printf("%-18s%s ms (median/max, last minute)%n", "checkpoint pause:", pause(v));
    out().printf("%-18s%s%n", "last checkpoint:", v.lastCheckpointAt() == null ? "-" : v.lastCheckpointAt());
    out().printf("%-18s%d%n", "failovers:", v.failovers().size());
    for (FtStatusView.Failover f : v.failovers()) {
      out().printf("  %s %s -> %s: %s (detected %s ms, takeover %s ms)%n", f.at(), f.from(), f.to(), f.cause(),
          dash(f.detectedMs()), dash(f.takeoverMs()));
    }
    out().printf("%-18s%s%n", "re-protection:", v.reprotect() ? "automatic" : "off (--no-reprotect)");
    List<FtStatusView.Reprotection> again = v.reprotections() == null ? List.of() : v.reprotections();
    for (FtStatusView.Reprotection r : again) {
      out().printf("  %s new secondary %s, %d ms after it became unprotected (guest paused %s ms)%n", r.at(),
          r.secondary(), r.tookMs(), dash(r.guestPauseMs()));
    }
    if (v.reason() != null) out().printf("%-18s%s%n", "reason:", v.reason());
  }

  private static String pause(FtStatusView v) {
    var p = v.checkpointPauseMs();
    return p == null || p.median() == null ? "-" : p.median() + "/" + p.max();
  }

  private static String dash(Object o) {
    return o == null ? "-" : o.toString();
  }
}
