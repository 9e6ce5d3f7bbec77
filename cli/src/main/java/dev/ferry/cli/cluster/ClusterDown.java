package dev.ferry.cli.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry cluster down [--dir DIR] [--keep-vms]}: stops the VMs (a short graceful stop, then
 * kill) while the controller can still reach the agents, then the agents, then the controller.
 * Only processes that pass {@link ProcessCheck} are signalled: a reused pid is left alone.
 */
@Command(name = "down", description = "stop the local cluster")
final class ClusterDown extends LocalClusterCommand {

  static final Duration VM_STOP_TIMEOUT = Duration.ofSeconds(10);
  static final Duration GRACE = Duration.ofSeconds(10);

  @Option(names = "--keep-vms", description = "leave the VMs running (the agents re-adopt them on the next up)")
  boolean keepVms;

  ClusterDown(CliContext ctx) {
    super(ctx);
  }

  @Override
  public Integer call() {
    ClusterLayout layout = layout();
    PrintWriter out = out();
    Optional<ClusterFile> recorded = ClusterFile.read(layout.dir());
    if (recorded.isEmpty()) {
      out.println("no cluster in " + layout.dir() + ": nothing to stop");
      return Cli.OK;
    }
    ClusterFile file = recorded.get();
    ClusterFile.Component controller = file.controller();
    if (!keepVms) {
      if (ProcessCheck.alive(controller.pid(), controller.data())) {
        stopVms(client(file), out);
      } else {
        out.println("controller is not running: VMs are left as they are");
      }
    }

    // agents together, then the controller, each SIGTERM then SIGKILL after the grace period
    List<CompletableFuture<String>> agents = new ArrayList<>();
    for (ClusterFile.Component a : file.agents()) agents.add(stop(a));
    for (int i = 0; i < agents.size(); i++) out.println(file.agents().get(i).name() + ": " + agents.get(i).join());
    out.println("controller: " + stop(controller).join());
    // the network outlives the agents only when VMs were left running on it
    if (!keepVms) {
      Optional<LocalNetwork> net = LocalNetwork.recorded(layout.dir(), LocalNetwork.DEFAULT);
      if (net.isPresent()) {
        List<String> left = net.get().remove();
        out.println("network " + net.get().name() + ": " + (left.isEmpty() ? "removed (bridge " + net.get().bridge()
            + ", namespace " + net.get().namespace() + ", dnsmasq)" : "left behind: " + String.join("; ", left)));
      }
    }

    for (ClusterFile.Component a : file.agents()) file = file.withAgent(a.withPid(null));
    file.withController(controller.withPid(null)).write(layout.dir());
    out.flush();
    return Cli.OK;
  }

  private static CompletableFuture<String> stop(ClusterFile.Component c) {
    return ProcessCheck.ours(c.pid(), c.data())
        .map(p -> CompletableFuture.supplyAsync(() -> ProcessCheck.stop(p, GRACE) + " (pid " + c.pid() + ")"))
        .orElse(CompletableFuture.completedFuture("not running"));
  }

  private static void stopVms(ControllerClient api, PrintWriter out) {
    if (api == null) {
      out.println("no token file: VMs are left as they are");
      return;
    }
    List<VmView> vms = dev.ferry.cli.client.Pages.all(api, ApiPaths.VMS, java.util.Map.of(),
        new TypeReference<List<VmView>>() {}, VmView::name);
    for (VmView vm : vms) {
      if (vm.state() == VmState.STOPPED) continue;
      String base = ApiPaths.VM_ACTION.replace("{name}", ControllerClient.seg(vm.name()));
      try {
        api.post(base.replace("{action}", "stop") + "?timeout_ms=" + VM_STOP_TIMEOUT.toMillis(), null,
            VM_STOP_TIMEOUT.plus(ControllerClient.TIMEOUT));
        out.println("vm " + vm.name() + ": stopped");
      } catch (CliException stopFailed) {
        try {
          api.post(base.replace("{action}", "kill"), null, ControllerClient.TIMEOUT);
          out.println("vm " + vm.name() + ": killed (" + stopFailed.getMessage() + ")");
        } catch (CliException killFailed) {
          // best effort: the agents are about to go down anyway; say what is left behind
          out.println("vm " + vm.name() + ": could not stop it: " + killFailed.getMessage());
        }
      }
    }
  }
}
