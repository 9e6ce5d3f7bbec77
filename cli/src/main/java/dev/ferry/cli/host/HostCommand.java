package dev.ferry.cli.host;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry host ...}: the hosts the controller knows. */
@Command(name = "host", description = "hosts (agents) known to the controller",
    subcommands = {HostList.class, HostEnroll.class})
public final class HostCommand extends GroupCommand {}
