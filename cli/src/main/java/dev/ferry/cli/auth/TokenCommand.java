package dev.ferry.cli.auth;

import dev.ferry.cli.GroupCommand;
import picocli.CommandLine.Command;

/** {@code ferry token ...}: named user tokens with roles (admin only). */
@Command(name = "token", description = "user tokens and their roles (viewer, operator, admin)",
    subcommands = {TokenCreate.class, TokenList.class, TokenRevoke.class})
public final class TokenCommand extends GroupCommand {}
