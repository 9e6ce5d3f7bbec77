package dev.ferry.cli;

import picocli.CommandLine.Option;

/**
 * {@code --controller}, {@code --token-file} and {@code --help}, mixed into every command. The
 * token itself is never an option: a command line is readable by every user of the machine
 * ({@code /proc/PID/cmdline}), a 0600 file or the environment is not.
 */
public final class GlobalOptions {

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
  public boolean help;

  @Option(names = "--controller", paramLabel = "URL",
      description = "controller URL (default: $FERRY_CONTROLLER, else the local cluster's)")
  public String controller;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "file (mode 0600) holding your token (default: $FERRY_TOKEN, else the local cluster's token file)")
  public java.nio.file.Path tokenFile;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "CA certificate the controller's https certificate must chain to (default: $FERRY_CA, else the"
          + " local cluster's ca_file)")
  public String ca;
}
