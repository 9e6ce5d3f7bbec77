package dev.ferry.cli.vm;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.DiskView;
import dev.ferry.api.NicView;
import dev.ferry.api.Sizes;
import dev.ferry.api.VmView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.Table;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry vm show NAME [--json]}: everything the controller knows of one VM, including the
 * memory QEMU really got and why it differs from the request.
 */
@Command(name = "show", description = "show one VM in detail")
final class VmShow extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  VmShow(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    VmView vm = api.get(VmCommand.path(ApiPaths.VM, name), VmView.class);
    if (json) {
      printJson(vm);
    } else {
      print(vm, out());
    }
  }

  static void print(VmView vm, PrintWriter out) {
    field(out, "name", vm.name());
    field(out, "host", vm.host());
    field(out, "state", HostList.lower(vm.state()));
    field(out, "memory", memory(vm));
    if (vm.memoryAdjustment() != null && !vm.memoryAdjustment().isBlank()) {
      field(out, "memory why", vm.memoryAdjustment());
    }
    field(out, "cpus", vm.cpus());
    field(out, "machine", vm.machineType());
    field(out, "cpu model", vm.cpuModel());
    field(out, "accelerator", vm.accelerator());
    field(out, "pid", vm.pid());
    if (vm.ft() != null) {
      field(out, "ft", vm.ft().state() + (vm.ft().secondary() == null ? "" : ", secondary on " + vm.ft().secondary()));
    }
    if (vm.disks() == null || vm.disks().isEmpty()) {
      field(out, "disks", "none");
    } else {
      out.println("disks:");
      Table t = new Table("ID", "POOL", "FORMAT", "SIZE", "PATH");
      for (DiskView d : vm.disks()) t.row(d.id(), d.pool(), d.format(), Sizes.format(d.sizeBytes()), d.path());
      t.print(out, "  ");
    }
    if (vm.nics() == null || vm.nics().isEmpty()) {
      field(out, "nics", "none");
    } else {
      out.println("nics:");
      Table t = new Table("NETWORK", "MAC", "TAP", "IP");
      for (NicView n : vm.nics()) t.row(n.network(), n.mac(), n.tap(), n.ip() == null ? "-" : n.ip());
      t.print(out, "  ");
    }
  }

  static String memory(VmView vm) {
    long g = vm.memoryGivenBytes();
    // an adjusted size differs by a few KiB: rounded to MiB it would read as the requested one
    String given = g == 0 ? "unknown"
        : g != vm.memoryRequestedBytes() && g % 1024 == 0 ? (g / 1024) + " KiB" : Sizes.format(g);
    return Sizes.format(vm.memoryRequestedBytes()) + " requested, " + given + " given to qemu";
  }

  private static void field(PrintWriter out, String label, Object value) {
    out.printf("%-13s%s%n", label + ":", value == null ? "-" : value);
  }
}
