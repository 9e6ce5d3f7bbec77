package dev.ferry.cli.vm;

import dev.ferry.api.ApiPaths;
import dev.ferry.cli.ApiCommand;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ferry vm delete NAME}: the controller refuses (409) while the VM runs. */
@Command(name = "delete", description = "delete a stopped VM")
final class VmDelete extends ApiCommand {

  @Parameters(index = "0", paramLabel = "NAME", description = "VM name")
  String name;

  VmDelete(CliContext ctx) {
    super(ctx);
  }

  @Override
  protected void run(ControllerClient api) {
    api.delete(VmCommand.path(ApiPaths.VM, name));
    out().println("deleted vm " + name);
  }
}
