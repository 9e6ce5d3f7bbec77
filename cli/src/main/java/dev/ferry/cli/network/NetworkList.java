package dev.ferry.cli.network;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.NetworkView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry network list [--json]}: one line per network. */
@Command(name = "list", description = "list networks")
final class NetworkList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  NetworkList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<NetworkView> networks = api.get(ApiPaths.NETWORKS, new TypeReference<List<NetworkView>>() {});
    if (json) {
      printJson(networks);
      return;
    }
    Table t = new Table("NAME", "BRIDGE", "HOSTS");
    for (NetworkView n : networks) t.row(n.name(), n.bridge(), hosts(n));
    t.print(out());
  }

  static String hosts(NetworkView n) {
    return n.hosts() == null || n.hosts().isEmpty() ? "none" : String.join(",", n.hosts());
  }
}
