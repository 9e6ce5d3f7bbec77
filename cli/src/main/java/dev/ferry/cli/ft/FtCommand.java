package dev.ferry.cli.ft;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry ft ...}: fault tolerance, a COLO secondary kept in lock-step on another host (issue 12). */
@Command(name = "ft", description = "fault tolerance: a secondary on another host in lock-step with the VM",
    subcommands = {FtEnable.class, FtStatus.class, FtDisable.class, FtFailover.class})
public final class FtCommand extends GroupCommand {}
