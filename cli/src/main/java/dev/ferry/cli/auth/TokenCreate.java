package dev.ferry.cli.auth;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.auth.Role;
import dev.ferry.api.auth.TokenCreateRequest;
import dev.ferry.api.auth.TokenCreated;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry token create NAME --role ROLE [--json]}: prints the new token once, on stdout (the
 * controller keeps only its hash); store it in a 0600 file and pass that with {@code --token-file}.
 */
@Command(name = "create", description = "create a named token with a role; prints the token once")
final class TokenCreate extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "token name (lower-case letters, digits, -)")
  String name;

  @Option(names = "--role", required = true, paramLabel = "ROLE", converter = RoleConverter.class,
      description = "viewer (read only), operator (VM lifecycle and migrations) or admin (everything)")
  Role role;

  @Option(names = "--json", description = "print the API's JSON (field token holds the secret)")
  boolean json;

  static final class RoleConverter implements picocli.CommandLine.ITypeConverter<Role> {
    @Override
    public Role convert(String value) {
      for (Role r : Role.values()) {
        if (r.text().equals(value)) return r;
      }
      throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a role: viewer, operator or admin");
    }
  }

  TokenCreate(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    TokenCreated t = api.post(ApiPaths.TOKENS, new TokenCreateRequest(name, role), TokenCreated.class);
    if (json) {
      printJson(t);
      return;
    }
    out().println(t.token());
    err().println("token '" + t.name() + "' (role " + t.role().text() + ") created; it is shown only this once:"
        + " keep it in a file only you can read (chmod 600) and use it with --token-file FILE or FERRY_TOKEN");
    err().flush();
  }
}
