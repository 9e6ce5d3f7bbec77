package dev.ferry.cli.host;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import dev.ferry.api.auth.HostCredential;
import dev.ferry.api.auth.SecretFile;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.client.ControllerClient;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ferry host enroll NAME --credential-file FILE}: asks the controller (admin) for a new
 * credential for host NAME, replacing any earlier one, and writes it to FILE with mode 0600. Copy
 * FILE to the host (keeping the mode) and start its agent with {@code --credential-file FILE}: the
 * agent may then send heartbeats for NAME only, and accepts calls from this controller only.
 */
@Command(name = "enroll", description = "create a host's own credential and write it to a 0600 file for its agent")
public final class HostEnroll extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "host name, as the agent's --name")
  String name;

  @Option(names = "--credential-file", required = true, paramLabel = "FILE",
      description = "where to write the credential (mode 0600; replaced if it exists)")
  Path file;

  HostEnroll(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    Path target = ctx.cwd().resolve(file);
    HostCredential c = enroll(api, name, target);
    out().println("host " + c.host() + " enrolled; its credential is in " + target + " (mode 0600)");
    out().println("start its agent with: ferry agent --name " + c.host() + " --credential-file " + target
        + " --controller URL --listen HOST:PORT --data DIR");
  }

  /** Enrols {@code host} and writes its credential to {@code file} (0600); {@code cluster up} does this per agent. */
  public static HostCredential enroll(ControllerClient api, String host, Path file) {
    HostCredential c = api.post(ApiPaths.HOST_CREDENTIAL.replace("{name}", ControllerClient.seg(host)), null,
        HostCredential.class);
    try {
      SecretFile.write(file, Json.mapper().writeValueAsString(c));
    } catch (SecretFile.Refused | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw CliException.local("host " + host + " was enrolled but its credential could not be written: "
          + e.getMessage() + "; enroll it again", e);
    }
    return c;
  }
}
