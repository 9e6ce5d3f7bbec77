package dev.ferry.cli;

import picocli.CommandLine.Command;

/** {@code ferry host ...}: the hosts the controller knows. */
@Command(name = "host", description = "hosts (agents) known to the controller",
    subcommands = HostList.class)
final class HostCommand extends GroupCommand {}
