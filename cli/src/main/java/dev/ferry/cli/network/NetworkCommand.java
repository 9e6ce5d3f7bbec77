package dev.ferry.cli.network;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry network ...}: networks, one Linux bridge present on every host. */
@Command(name = "network", description = "networks (a bridge on every host) for VM NICs",
    subcommands = {NetworkList.class, NetworkShow.class, NetworkCreate.class, NetworkExec.class})
public final class NetworkCommand extends GroupCommand {}
