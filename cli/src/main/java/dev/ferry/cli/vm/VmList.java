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
import dev.ferry.api.Paging;
import dev.ferry.cli.client.Pages;
import dev.ferry.cli.output.ListOptions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry vm list [--host H] [--state S] [--limit N [--after NAME]] [--json]}: by name. */
@Command(name = "list", description = "list VMs by name (every page, unless --limit asks for one)")
final class VmList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  @Option(names = "--host", paramLabel = "HOST", description = "only the VMs of this host")
  String host;

  @Option(names = "--state", paramLabel = "STATE", description = "only VMs in this state (running, stopped, unknown, …)")
  String state;

  @Option(names = "--limit", paramLabel = "N", description = "one page of at most N VMs (1-" + Paging.MAX_LIMIT + ")")
  Integer limit;

  @Option(names = "--after", paramLabel = "NAME", description = "the page after this VM (the last one of the previous page)")
  String after;

  @Override
  protected void validate() {
    ListOptions.check(limit, after);
  }

  VmList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    Map<String, String> filters = new LinkedHashMap<>();
    filters.put("host", host);
    filters.put("state", state == null ? null : state.toLowerCase(Locale.ROOT));
    var type = new TypeReference<List<VmView>>() {};
    List<VmView> vms = limit == null ? Pages.all(api, ApiPaths.VMS, filters, type, VmView::name)
        : Pages.one(api, ApiPaths.VMS, filters, limit, after, type);
    if (limit != null && vms.size() == limit) {
      err().println("more: ferry vm list --limit " + limit + " --after " + vms.getLast().name()
          + (host == null ? "" : " --host " + host) + (state == null ? "" : " --state " + state));
    }
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
