package dev.ferry.cli.migration;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry migrate KIND ...}: start a migration ({@code storage}, {@code live}, {@code cold}) and follow it. */
@Command(name = "migrate", description = "start a migration and follow it until it ends",
    subcommands = {MigrateStorage.class, MigrateLive.class, MigrateCold.class, MigrateWarm.class})
public final class MigrateCommand extends GroupCommand {}
