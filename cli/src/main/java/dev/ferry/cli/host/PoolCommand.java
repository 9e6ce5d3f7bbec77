package dev.ferry.cli.host;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry pool ...}: storage pools, one directory per host. */
@Command(name = "pool", description = "storage pools",
    subcommands = {PoolList.class, PoolCreate.class})
public final class PoolCommand extends GroupCommand {}
