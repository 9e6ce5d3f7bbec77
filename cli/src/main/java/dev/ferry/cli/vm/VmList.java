package dev.ferry.cli.vm;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Sizes;
import dev.ferry.api.VmView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry vm list [--json]}. */
@Command(name = "list", description = "list VMs")
final class VmList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  VmList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<VmView> vms = api.get(ApiPaths.VMS, new TypeReference<List<VmView>>() {});
    if (json) {
      printJson(vms);
      return;
    }
    Table t = new Table("NAME", "HOST", "STATE", "CPUS", "MEMORY", "DISKS", "PID");
    for (VmView vm : vms) {
      t.row(vm.name(), vm.host(), HostList.lower(vm.state()), vm.cpus(), Sizes.format(vm.memoryRequestedBytes()),
          vm.disks() == null ? 0 : vm.disks().size(), vm.pid());
    }
    t.print(out());
  }
}
