package dev.ferry.cli.cluster;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.HostView;
import dev.ferry.api.Json;
import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostList;
import dev.ferry.cli.output.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry cluster status [--dir DIR] [--json]}: each process of the local cluster and its host's state. */
@Command(name = "status", description = "show the local cluster's processes and hosts")
final class ClusterStatus extends LocalClusterCommand {

  @Option(names = "--json", description = "print JSON")
  boolean json;

  /** One process of the cluster as {@code status --json} prints it. */
  record ComponentStatus(String name, Long pid, boolean alive, String url, String data, String log, String hostState) {}

  /** The whole {@code status --json} document; {@code hostsError} says why {@code hosts} is empty. */
  record Status(String dir, String controllerUrl, String tokenFile, List<ComponentStatus> components,
      List<HostView> hosts, String hostsError) {}

  ClusterStatus(CliContext ctx) {
    super(ctx);
  }

  @Override
  public Integer call() {
    ClusterLayout layout = layout();
    ClusterFile file = ClusterFile.read(layout.dir()).orElseThrow(() -> new CliException(CliException.Kind.CONFIG,
        "no cluster in " + layout.dir() + " (no " + ClusterFile.NAME + "); start one with 'ferry cluster up'"));
    Status status = status(layout, file);
    if (json) {
      try {
        out().println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(status));
      } catch (JsonProcessingException e) {
        throw CliException.local("cannot print json: " + e.getOriginalMessage(), e);
      }
    } else {
      out().println("cluster in " + status.dir() + ", token file " + status.tokenFile());
      Table t = new Table("COMPONENT", "PID", "ALIVE", "URL", "HOST STATE");
      for (ComponentStatus c : status.components()) {
        t.row(c.name(), c.pid(), c.alive() ? "yes" : "no", c.url(), c.hostState());
      }
      t.print(out());
      if (status.hostsError() != null) out().println("hosts: " + status.hostsError());
    }
    out().flush();
    return Cli.OK;
  }

  static Status status(ClusterLayout layout, ClusterFile file) {
    List<HostView> hosts = List.of();
    String hostsError = null;
    ClusterFile.Component ctl = file.controller();
    if (!ProcessCheck.alive(ctl.pid(), ctl.data())) {
      hostsError = "controller is not running";
    } else {
      try {
        ControllerClient api = client(file);
        if (api == null) {
          hostsError = "no token file " + file.tokenFile();
        } else {
          hosts = api.get(ApiPaths.HOSTS, new TypeReference<List<HostView>>() {});
        }
      } catch (CliException e) {
        hostsError = e.getMessage();
      }
    }
    Map<String, HostView> byName = hosts.stream().collect(Collectors.toMap(HostView::name, Function.identity(), (a, b) -> a));
    List<ComponentStatus> components = new ArrayList<>();
    components.add(component(ctl, null));
    for (ClusterFile.Component a : file.agents()) {
      HostView h = byName.get(a.name());
      components.add(component(a, h == null ? (hostsError == null ? "not registered" : null) : HostList.lower(h.state())));
    }
    return new Status(layout.dir().toString(), file.controllerUrl(), file.tokenFile(), components, hosts, hostsError);
  }

  private static ComponentStatus component(ClusterFile.Component c, String hostState) {
    return new ComponentStatus(c.name(), c.pid(), ProcessCheck.alive(c.pid(), c.data()), c.url(), c.data(), c.log(),
        hostState);
  }
}
