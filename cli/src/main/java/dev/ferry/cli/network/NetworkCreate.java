package dev.ferry.cli.network;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NetworkView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry network create NAME --bridge BRIDGE [--json]}: names an existing bridge of every host. */
@Command(name = "create", description = "create a network on an existing Linux bridge of every host")
final class NetworkCreate extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "network name")
  String name;

  @Option(names = "--bridge", required = true, paramLabel = "BRIDGE", description = "the Linux bridge, e.g. vmbr0")
  String bridge;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  NetworkCreate(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    NetworkView n = api.post(ApiPaths.NETWORKS, new NetworkCreateRequest(name, bridge), NetworkView.class);
    if (json) {
      printJson(n);
      return;
    }
    out().println("created network " + n.name() + " on bridge " + n.bridge() + " (hosts with it: "
        + NetworkList.hosts(n) + ")");
  }
}
