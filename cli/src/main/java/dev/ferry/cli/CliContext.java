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
 * @param pollInterval how often {@code vm console --follow} asks for more text
 */
record CliContext(Map<String, String> env, Path cwd, Duration pollInterval) {

  CliContext {
    env = Map.copyOf(env);
    cwd = cwd.toAbsolutePath().normalize();
  }

  static CliContext ofProcess() {
    return new CliContext(System.getenv(), Path.of(""), Duration.ofMillis(300));
  }

  String env(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? null : value;
  }

  /** The contract's default cluster directory: FERRY_CLUSTER_DIR, else under XDG_STATE_HOME. */
  Path clusterDir() {
    String explicit = env("FERRY_CLUSTER_DIR");
    if (explicit != null) return cwd.resolve(explicit).normalize();
    String state = env("XDG_STATE_HOME");
    if (state == null) {
      String home = env("HOME") != null ? env("HOME") : System.getProperty("user.home");
      state = Path.of(home, ".local", "state").toString();
    }
    return Path.of(state, "ferry", "cluster").toAbsolutePath().normalize();
  }

  /** A path the user typed, made absolute against the working directory (symlinks kept). */
  String absolute(Path userPath) {
    return userPath == null ? null : cwd.resolve(userPath).normalize().toString();
  }
}
