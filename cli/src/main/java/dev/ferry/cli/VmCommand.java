package dev.ferry.cli;

import picocli.CommandLine.Command;

/** {@code ferry vm ...}: virtual machines. */
@Command(name = "vm", description = "virtual machines",
    subcommands = {VmCreate.class, VmList.class, VmShow.class, VmAction.Start.class, VmAction.Stop.class,
        VmAction.Kill.class, VmDelete.class, VmConsole.class, VmUnlock.class})
final class VmCommand extends GroupCommand {

  static String path(String template, String name) {
    return template.replace("{name}", ControllerClient.seg(name));
  }
}
