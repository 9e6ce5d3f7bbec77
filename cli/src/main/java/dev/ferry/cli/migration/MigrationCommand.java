package dev.ferry.cli.migration;

import dev.ferry.cli.GroupCommand;
import dev.ferry.cli.client.ControllerClient;
import picocli.CommandLine.Command;

/** {@code ferry migration ...}: migrations the controller knows, running or done. */
@Command(name = "migration", description = "list, show and cancel migrations",
    subcommands = {MigrationList.class, MigrationShow.class, MigrationCancel.class, MigrationCutover.class})
public final class MigrationCommand extends GroupCommand {

  static String path(String template, String id) {
    return template.replace("{id}", ControllerClient.seg(id));
  }
}
