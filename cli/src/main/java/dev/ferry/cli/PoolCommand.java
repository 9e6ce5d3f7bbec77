package dev.ferry.cli;

import picocli.CommandLine.Command;

/** {@code ferry pool ...}: storage pools, one directory per host. */
@Command(name = "pool", description = "storage pools",
    subcommands = {PoolList.class, PoolCreate.class})
final class PoolCommand extends GroupCommand {}
