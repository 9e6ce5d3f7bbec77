package dev.ferry.cli.auth;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.auth.TokenView;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.output.Table;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ferry token list [--json]}: names, roles and creation times; never a secret. */
@Command(name = "list", description = "list tokens (names and roles; secrets are never shown)")
final class TokenList extends ApiCommand {

  @Option(names = "--json", description = "print the API's JSON")
  boolean json;

  TokenList(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    List<TokenView> tokens = api.get(ApiPaths.TOKENS, new TypeReference<List<TokenView>>() {});
    if (json) {
      printJson(tokens);
      return;
    }
    Table t = new Table("NAME", "ROLE", "CREATED");
    for (TokenView v : tokens) t.row(v.name(), v.role().text(), v.createdAt());
    t.print(out());
  }
}
