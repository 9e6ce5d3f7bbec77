package dev.ferry.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** Runs {@code ferry ...} in-process on a root built the way {@code app}'s Main does: register, then configure. */
public final class CliRunner {

  @Command(name = "ferry", mixinStandardHelpOptions = true)
  public static final class Root {}

  public record Result(int exit, String out, String err) {}

  private final Map<String, String> env = new HashMap<>();
  private Path cwd = Path.of("").toAbsolutePath();

  public CliRunner env(String name, String value) {
    env.put(name, value);
    return this;
  }

  public CliRunner cwd(Path dir) {
    cwd = dir;
    return this;
  }

  /** Talks to {@code fake}: its URL through the flag, its token through FERRY_TOKEN (never a flag). */
  public Result against(FakeController fake, String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--controller";
    all[args.length + 1] = fake.url();
    env.putIfAbsent("FERRY_TOKEN", FakeController.TOKEN);
    return run(all);
  }

  public Result run(String... args) {
    return run(null, args);
  }

  /** {@code tweak} may adjust the built command tree, e.g. to bound {@code --follow}. */
  public Result run(java.util.function.Consumer<CommandLine> tweak, String... args) {
    CommandLine root = new CommandLine(new Root());
    // no HOME fallback into the real user's state: tests always bring their own cluster dir
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("FERRY_CLUSTER_DIR", cwd.resolve("no-cluster-here").toString());
    Cli.register(root, new CliContext(e, cwd, Duration.ofMillis(1)));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    root.setOut(new PrintWriter(out, true));
    root.setErr(new PrintWriter(err, true));
    Cli.configure(root);
    if (tweak != null) tweak.accept(root);
    int exit = root.execute(args);
    return new Result(exit, out.toString(), err.toString());
  }
}
