package dev.ferry.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What the commands take from the process they run in, injected so tests can run them in-process
 * with their own environment and working directory.
 *
 * @param env environment variables (FERRY_CONTROLLER, FERRY_TOKEN, FERRY_CLUSTER_DIR, ...)
 * @param cwd the directory relative paths given by the user are resolved against
 * @param pollInterval how often {@code vm console --follow} and a followed migration ask again
 * @param terminal true when the error stream is an interactive terminal, so a progress line may
 *     be redrawn in place with {@code \r}; false for pipes, files and tests (one line per step)
 */
public record CliContext(Map<String, String> env, Path cwd, Duration pollInterval, boolean terminal) {

  public CliContext {
    env = Map.copyOf(env);
    cwd = cwd.toAbsolutePath().normalize();
  }

  /** Not a terminal: what tests and redirected runs get. */
  public CliContext(Map<String, String> env, Path cwd, Duration pollInterval) {
    this(env, cwd, pollInterval, false);
  }

  public static CliContext ofProcess() {
    return new CliContext(System.getenv(), Path.of(""), Duration.ofMillis(300), isTerminal(System.getenv("TERM")));
  }

  /**
   * {@code Console.isTerminal()} exists from Java 22 on, where {@code System.console()} is no
   * longer null for redirected streams; on 21 a non-null console is the answer. Reflection keeps
   * the module compiling for release 21.
   */
  private static boolean isTerminal(String term) {
    java.io.Console console = System.console();
    if (console == null || "dumb".equals(term)) return false;
    try {
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }

  public String env(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? null : value;
  }

  /** Root's default cluster directory when root's home is private. */
  public static final Path ROOT_CLUSTER_DIR = Path.of("/var/lib/ferry/cluster");

  /**
   * The contract's default cluster directory: FERRY_CLUSTER_DIR, else under XDG_STATE_HOME, else
   * under {@code $HOME/.local/state} — except for root with a home others cannot enter (Debian's
   * {@code /root} is 0700): its agents run QEMU as {@code ferry-qemu}, which could not reach the
   * VMs' run directories there, so root's cluster lives in {@link #ROOT_CLUSTER_DIR}.
   */
  public Path clusterDir() {
    String explicit = env("FERRY_CLUSTER_DIR");
    if (explicit != null) return cwd.resolve(explicit).normalize();
    String state = env("XDG_STATE_HOME");
    if (state == null) {
      String home = env("HOME") != null ? env("HOME") : System.getProperty("user.home");
      if ("root".equals(System.getProperty("user.name")) && privateDir(Path.of(home))) return ROOT_CLUSTER_DIR;
      state = Path.of(home, ".local", "state").toString();
    }
    return Path.of(state, "ferry", "cluster").toAbsolutePath().normalize();
  }

  private static boolean privateDir(Path dir) {
    try {
      return !java.nio.file.Files.getPosixFilePermissions(dir)
          .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE);
    } catch (java.io.IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** A path the user typed, made absolute against the working directory (symlinks kept). */
  public String absolute(Path userPath) {
    return userPath == null ? null : cwd.resolve(userPath).normalize().toString();
  }
}
