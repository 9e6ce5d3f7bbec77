package dev.ferry.cli.ca;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry ca ...}: the cluster's certificate authority, and certificates for real hosts. */
@Command(name = "ca", description = "the cluster CA: create it, and issue a certificate for a host (enrolment)",
    subcommands = {CaInit.class, CaIssue.class})
public final class CaCommand extends GroupCommand {}
