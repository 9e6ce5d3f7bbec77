package dev.ferry.cli.network;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.NetworkView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ferry network show NAME [--json]}. */
@Command(name = "show", description = "show one network")
final class NetworkShow extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "network name")
  String name;

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  NetworkShow(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    NetworkView n = api.get(ApiPaths.NETWORK.replace("{name}", ControllerClient.seg(name)),
        NetworkView.class);
    if (json) {
      printJson(n);
      return;
    }
    out().printf("%-8s%s%n", "name:", n.name());
    out().printf("%-8s%s%n", "bridge:", n.bridge());
    out().printf("%-8s%s%n", "hosts:", NetworkList.hosts(n));
  }
}
