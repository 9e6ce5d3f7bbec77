package dev.ferry.app;

import dev.ferry.agent.AgentCommand;
import dev.ferry.cli.Cli;
import dev.ferry.controller.ControllerCommand;
import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one executable behind {@code ./ferry}: the CLI verbs, the two daemons ({@code agent},
 * {@code controller}) and the demo. Keeping them in one jar means a cluster is started with the
 * very binary the user runs.
 */
@Command(
    name = "ferry",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Moves and protects running QEMU/KVM virtual machines across hosts.",
    subcommands = {AgentCommand.class, ControllerCommand.class, DemoCommand.class, dev.ferry.app.bench.BenchCommand.class})
public final class Main {

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine root = new CommandLine(new Main());
    Cli.register(root);
    Cli.configure(root);
    return root;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      var props = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("/ferry-version.properties")) {
        if (in != null) props.load(in);
      }
      return new String[] {"ferry " + props.getProperty("version", "unknown"),
          "java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
    }
  }
}
