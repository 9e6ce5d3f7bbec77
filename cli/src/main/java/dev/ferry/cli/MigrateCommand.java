package dev.ferry.cli;

import picocli.CommandLine.Command;

/** {@code ferry migrate KIND ...}: start a migration ({@code storage}, {@code live}) and follow it. */
@Command(name = "migrate", description = "start a migration and follow it until it ends",
    subcommands = {MigrateStorage.class, MigrateLive.class})
final class MigrateCommand extends GroupCommand {}
