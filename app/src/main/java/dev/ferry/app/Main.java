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
    CommandLine root = commandLine();
    try {
      daemonConfig(root, args);
    } catch (ConfigFile.Invalid e) {
      System.err.println("ferry: " + e.getMessage());
      System.exit(e.usage ? dev.ferry.cli.Cli.USAGE : dev.ferry.cli.Cli.FAILURE);
    }
    System.exit(root.execute(args));
  }

  /**
   * {@code ferry agent|controller --config FILE}: the file's settings become the daemon's defaults
   * before its flags are parsed (picocli applies defaults first), so a flag still overrides them.
   */
  static void daemonConfig(CommandLine root, String[] args) {
    if (args.length == 0 || !(args[0].equals("agent") || args[0].equals("controller"))) return;
    for (int i = 1; i < args.length; i++) {
      String file = null;
      if (args[i].equals("--config") && i + 1 < args.length) file = args[i + 1];
      else if (args[i].startsWith("--config=")) file = args[i].substring("--config=".length());
      if (file != null) {
        CommandLine daemon = root.getSubcommands().get(args[0]);
        ConfigFile.apply(daemon, ConfigFile.read(java.nio.file.Path.of(file), daemon.getCommandSpec()));
        return;
      }
    }
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
