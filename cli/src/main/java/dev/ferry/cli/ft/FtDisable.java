package dev.ferry.cli.ft;

import dev.ferry.api.ApiPaths;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry ft disable VM}: back to a plain VM on its primary; the secondary is removed. */
@Command(name = "disable", description = "end fault tolerance: the VM runs on plain on its primary, the secondary goes")
final class FtDisable extends ApiCommand {

  /** ending COLO and removing the secondary: two agent calls of up to 40 s each, retried */
  static final Duration TIMEOUT = Duration.ofMinutes(3);

  @Parameters(index = "0", paramLabel = "VM", description = "VM name")
  String vm;

  FtDisable(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    api.delete(ApiPaths.FT_VM.replace("{name}", ControllerClient.seg(vm)), TIMEOUT);
    out().println("vm " + vm + ": fault tolerance disabled; it runs on its primary alone");
  }
}
