package dev.ferry.cli.host;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.HostView;
import dev.ferry.api.Sizes;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry host list [--json]}. */
@Command(name = "list", description = "list hosts with their state and resources")
public final class HostList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  HostList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<HostView> hosts = api.get(ApiPaths.HOSTS, new TypeReference<List<HostView>>() {});
    if (json) {
      printJson(hosts);
      return;
    }
    table(hosts).print(out());
  }

  static Table table(List<HostView> hosts) {
    Table t = new Table("NAME", "STATE", "URL", "CPUS", "MEMORY", "FREE", "QEMU", "ACCEL", "FT", "LAST HEARTBEAT");
    for (HostView h : hosts) {
      t.row(h.name(), lower(h.state()), h.url(), h.cpusCommitted() + "/" + h.cpus(),
          Sizes.format(h.memoryCommittedBytes()) + "/" + Sizes.format(h.memoryBytes()),
          Sizes.format(h.memoryFreeBytes()), h.qemuVersion(), h.accelerator(), ft(h), h.lastHeartbeat());
    }
    return t;
  }

  /** yes, no or probing (the COLO self-test of a binary still runs); details in --json */
  static String ft(HostView h) {
    if (h.ft() == null) return "-";
    if (h.ft().supported()) return "yes";
    boolean probing = h.ft().binaries().stream().anyMatch(b -> dev.ferry.api.FtBinaryView.PROBING.equals(b.state()));
    return probing ? "probing" : "no";
  }

  public static String lower(Enum<?> e) {
    return e == null ? null : e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
