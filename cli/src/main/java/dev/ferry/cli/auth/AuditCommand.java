package dev.ferry.cli.auth;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry audit ...}: the controller's record of mutating calls (admin only). */
@Command(name = "audit", description = "who changed what, and what was refused", subcommands = AuditList.class)
public final class AuditCommand extends GroupCommand {}
