package dev.ferry.cli.vm;

import dev.ferry.cli.GroupCommand;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;

/** {@code ferry vm ...}: virtual machines. */
@Command(name = "vm", description = "virtual machines",
    subcommands = {VmCreate.class, VmList.class, VmShow.class, VmAction.Start.class, VmAction.Stop.class,
        VmAction.Kill.class, VmDelete.class, VmConsole.class, VmUnlock.class})
public final class VmCommand extends GroupCommand {

  static String path(String template, String name) {
    return template.replace("{name}", ControllerClient.seg(name));
  }
}
