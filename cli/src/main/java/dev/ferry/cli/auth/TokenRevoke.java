package dev.ferry.cli.auth;

import dev.ferry.api.ApiPaths;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry token revoke NAME}: refused from the next request on; the last admin token stays. */
@Command(name = "revoke", description = "revoke a token")
final class TokenRevoke extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "token name")
  String name;

  TokenRevoke(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    api.delete(ApiPaths.TOKEN.replace("{name}", ControllerClient.seg(name)));
    out().println("revoked token " + name);
  }
}
