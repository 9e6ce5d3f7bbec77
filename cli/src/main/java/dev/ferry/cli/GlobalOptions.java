package dev.ferry.cli;

import picocli.CommandLine.Option;

/** {@code --controller}, {@code --token} and {@code --help}, mixed into every command. */
public final class GlobalOptions {

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  public boolean help;

  @Option(names = "--controller", paramLabel = "URL",
      description = "controller URL (default: $FERRY_CONTROLLER, else the local cluster's)")
  public String controller;

  @Option(names = "--token", paramLabel = "TOKEN",
      description = "cluster token (default: $FERRY_TOKEN, else the local cluster's token file)")
  public String token;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "CA certificate the controller's https certificate must chain to (default: $FERRY_CA, else the"
          + " local cluster's ca_file)")
  public String ca;
}
