package dev.ferry.cli;

import dev.ferry.cli.ca.CaCommand;
import dev.ferry.cli.cluster.ClusterCommand;
import dev.ferry.cli.host.HostCommand;
import dev.ferry.cli.host.PoolCommand;
import dev.ferry.cli.migration.MigrateCommand;
import dev.ferry.cli.migration.MigrationCommand;
import dev.ferry.cli.vm.VmCommand;
import dev.ferry.api.StartupFailure;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IExitCodeExceptionMapper;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;
import picocli.CommandLine;

/**
 * The {@code ferry} user commands ({@code cluster}, {@code host}, {@code pool}, {@code vm},
 * {@code migrate}, {@code migration}) for the root command that {@code dev.ferry.app.Main} builds.
 *
 * <pre>{@code
 * CommandLine root = new CommandLine(new FerryRoot());
 * Cli.register(root);   // adds the subcommands
 * Cli.configure(root);  // exit codes and one-line error messages
 * System.exit(root.execute(args));
 * }</pre>
 *
 * Exit codes: {@link #OK} on success, {@link #FAILURE} for any problem from the API, an
 * unreachable controller or a local failure, {@link #USAGE} for a picocli parse error or a bad
 * value noticed before any request was sent. Errors are printed as one line,
 * {@code ferry: <message>}, on the command line's error writer.
 */
public final class Cli {

  public static final int OK = 0;
  public static final int FAILURE = 1;
  public static final int USAGE = 2;

  private Cli() {}

  /** Adds the user commands (cluster, host, pool, vm, migrate, migration) to {@code root}. */
  public static void register(CommandLine root) {
    register(root, CliContext.ofProcess());
  }

  /**
   * The same with an explicit context: {@code ferry bench live} runs the user commands in its own
   * process against the controller it started, with that controller in the context's environment.
   */
  public static void register(CommandLine root, CliContext ctx) {
    CommandLine.IFactory factory = new Factory(ctx);
    for (Class<?> group : new Class<?>[] {ClusterCommand.class, CaCommand.class, HostCommand.class, PoolCommand.class,
        dev.ferry.cli.network.NetworkCommand.class, VmCommand.class,
        MigrateCommand.class, MigrationCommand.class, dev.ferry.cli.ft.FtCommand.class,
        dev.ferry.cli.auth.TokenCommand.class, dev.ferry.cli.auth.AuditCommand.class}) {
      root.addSubcommand(new CommandLine(group, factory));
    }
  }

  /**
   * Installs the one exception mapping of the CLI on {@code root}: execution failures become
   * {@code ferry: <message>} and {@link #exitCodeFor}; parse errors a message, a hint and exit 2.
   * Call it after {@link #register} and after any {@code setOut}/{@code setErr}.
   */
  public static void configure(CommandLine root) {
    root.setExecutionExceptionHandler(EXECUTION_HANDLER);
    root.setParameterExceptionHandler(PARAMETER_HANDLER);
    root.setExitCodeExceptionMapper(Cli::exitCodeFor);
  }

  /** The exit code for any failure: the only place that maps exceptions to exit codes. */
  /** The cluster directory every command finds by itself: FERRY_CLUSTER_DIR, else the per-user default. */
  public static java.nio.file.Path defaultClusterDir() {
    return CliContext.ofProcess().clusterDir();
  }

  public static int exitCodeFor(Throwable t) {
    if (t instanceof CliException e) {
      return switch (e.kind()) {
        case USAGE -> USAGE;
        case CONFIG, UNREACHABLE, API, LOCAL, OUTCOME -> FAILURE;
      };
    }
    if (t instanceof ParameterException) return USAGE;
    if (t instanceof StartupFailure) return FAILURE;
    return FAILURE;
  }

  /** The line printed after {@code ferry: } for a failure. */
  static String messageFor(Throwable t) {
    if (t instanceof CliException || t instanceof ParameterException || t instanceof StartupFailure) return t.getMessage();
    // not ours: a bug or an unexpected runtime failure; still one line, with the type for a bug report
    String m = t.getMessage();
    return "unexpected " + t.getClass().getName() + (m == null ? "" : ": " + m.replaceAll("\\R", " "));
  }

  private static final Pattern ONE_MATCH =
      Pattern.compile("expected only one match but got (.+)=\\{(.*)\\} and \\1=\\{(.*)\\}", Pattern.DOTALL);

  /** picocli's parse message, without its "Error: " and with the exclusive-group case in plain words. */
  static String usageMessage(ParameterException ex) {
    String m = String.valueOf(ex.getMessage()).replaceFirst("^Error: ", "");
    Matcher one = ONE_MATCH.matcher(m);
    if (one.matches()) {
      return "options are mutually exclusive: " + one.group(2) + " and " + one.group(3) + " cannot be combined; allowed: "
          + one.group(1);
    }
    return m.replaceAll("\\R", " ");
  }

  private static final IExecutionExceptionHandler EXECUTION_HANDLER = (ex, cmd, parseResult) -> {
    PrintWriter err = cmd.getErr();
    err.println("ferry: " + messageFor(ex));
    if (!(ex instanceof CliException) && System.getenv("FERRY_DEBUG") != null) ex.printStackTrace(err);
    err.flush();
    return exitCodeFor(ex);
  };

  private static final IParameterExceptionHandler PARAMETER_HANDLER = (ex, args) -> {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    err.println("ferry: " + usageMessage(ex));
    UnmatchedArgumentException.printSuggestions(ex, err);
    err.println("try '" + cmd.getCommandSpec().qualifiedName() + " --help'");
    err.flush();
    return USAGE;
  };

  /** Builds commands with a {@link CliContext} constructor when they have one. */
  private record Factory(CliContext ctx) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      try {
        Constructor<K> c = cls.getDeclaredConstructor(CliContext.class);
        c.setAccessible(true); // commands live in their own packages and keep their constructors package-private
        return c.newInstance(ctx);
      } catch (NoSuchMethodException e) {
        return CommandLine.defaultFactory().create(cls);
      }
    }
  }
}
