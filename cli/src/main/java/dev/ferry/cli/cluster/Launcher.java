package dev.ferry.cli.cluster;

import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the controller and the agents in the background with the same Java and the same jar as
 * the running CLI (overridable by {@code FERRY_JAVA} / {@code FERRY_JAR}). Each child is detached
 * by {@code setsid} into its own session, reads /dev/null and appends to its log, so it outlives
 * the CLI and a Ctrl-C in the terminal does not reach it.
 *
 * <p>{@code setsid} only forks when its caller leads a process group; a JVM child never does, so
 * the pid we get is the pid of the Java process it execs.
 */
record Launcher(String java, String jar) {

  static Launcher of(CliContext ctx) {
    String java = ctx.env("FERRY_JAVA");
    if (java == null) {
      java = ProcessHandle.current().info().command()
          .orElseThrow(() -> CliException.local("cannot tell which java runs the CLI; set FERRY_JAVA", null));
    }
    String jar = ctx.env("FERRY_JAR");
    if (jar == null) jar = runningJar();
    return new Launcher(java, jar);
  }

  private static String runningJar() {
    try {
      var source = Cli.class.getProtectionDomain().getCodeSource();
      Path p = source == null ? null : Path.of(source.getLocation().toURI());
      if (p == null || !Files.isRegularFile(p)) {
        throw CliException.local("the CLI is not running from a jar (" + p + "); set FERRY_JAR to the ferry jar", null);
      }
      return p.toString();
    } catch (URISyntaxException e) {
      throw CliException.local("cannot locate the ferry jar: " + e.getMessage() + "; set FERRY_JAR", e);
    }
  }

  /** {@code hostTimeout} and {@code maxMigrationsPerHost} are passed only when given: null keeps the controller's default. */
  List<String> controller(ClusterLayout layout, int port, String hostTimeout, Integer maxMigrationsPerHost) {
    return controller(layout, port, hostTimeout, maxMigrationsPerHost, null);
  }

  /** With {@code network} (null: none) the controller reads the addresses of its NICs from its DHCP leases. */
  List<String> controller(ClusterLayout layout, int port, String hostTimeout, Integer maxMigrationsPerHost,
      LocalNetwork network) {
    List<String> cmd = command("controller", "--listen", "127.0.0.1:" + port, "--data", layout.controllerData().toString(),
        "--tls", layout.tlsDir("controller").toString());
    if (hostTimeout != null) cmd.addAll(List.of("--host-timeout", hostTimeout));
    if (maxMigrationsPerHost != null) cmd.addAll(List.of("--max-migrations-per-host", maxMigrationsPerHost.toString()));
    if (network != null) cmd.addAll(List.of("--dhcp-leases", network.name() + "=" + network.leases()));
    return cmd;
  }

  List<String> agent(ClusterLayout layout, String host, int port, String controllerUrl) {
    return agent(layout, host, port, controllerUrl, null);
  }

  /** {@code migrationPorts} is passed only when given: null keeps the agent's default range. */
  List<String> agent(ClusterLayout layout, String host, int port, String controllerUrl, String migrationPorts) {
    List<String> cmd = command("agent", "--name", host, "--listen", "127.0.0.1:" + port,
        "--data", layout.hostData(host).toString(), "--controller", controllerUrl,
        "--credential-file", layout.credentialFile(host).toString(), "--tls", layout.tlsDir(host).toString(),
        // every pool of a local cluster (shared and each host's local) lies under its directory
        "--pool-root", layout.dir().toString());
    if (migrationPorts != null) cmd.addAll(List.of("--migration-ports", migrationPorts));
    return cmd;
  }

  private List<String> command(String... args) {
    List<String> cmd = new ArrayList<>(List.of("setsid", java, "--enable-native-access=ALL-UNNAMED", "-jar", jar));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Starts {@code cmd} detached; returns its pid. */
  static long start(List<String> cmd, Path log) {
    try {
      Files.createDirectories(log.getParent());
      Process p = new ProcessBuilder(cmd)
          .redirectInput(new File("/dev/null"))
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
          .redirectErrorStream(true)
          .start();
      return p.pid();
    } catch (IOException e) {
      throw CliException.local("cannot start " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    }
  }
}
