package dev.ferry.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.testsupport.GuestConsole;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the built {@code ferry.jar} as a user would, one process per command. */
final class FerryProcess {

  record Result(int exit, String out, String err) {
    /** The last stdout line as JSON: the final record of a followed migration. */
    JsonNode lastJson() {
      List<String> lines = out.strip().lines().toList();
      try {
        return Json.mapper().readTree(lines.getLast());
      } catch (IOException | java.util.NoSuchElementException e) {
        throw new AssertionError("no json on the last line: " + this, e);
      }
    }

    JsonNode json() {
      try {
        return Json.mapper().readTree(out);
      } catch (IOException e) {
        throw new AssertionError("not json: " + out + "\nstderr: " + err, e);
      }
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private final Path clusterDir;
  private final Map<String, String> env = new HashMap<>();
  private final List<String> prefix = new ArrayList<>();

  FerryProcess(Path clusterDir) {
    this.clusterDir = clusterDir;
  }

  FerryProcess withEnv(String key, String value) {
    FerryProcess copy = copy();
    copy.env.put(key, value);
    return copy;
  }

  /** The CLI run through {@code wrapper} (e.g. {@code ip netns exec NS}), as on another machine. */
  FerryProcess withPrefix(List<String> wrapper) {
    FerryProcess copy = copy();
    copy.prefix.clear();
    copy.prefix.addAll(wrapper);
    return copy;
  }

  private FerryProcess copy() {
    FerryProcess copy = new FerryProcess(clusterDir);
    copy.env.putAll(env);
    copy.prefix.addAll(prefix);
    return copy;
  }

  /** The cluster's cluster.json, as `cluster up` wrote it. */
  JsonNode clusterFile() {
    try {
      return Json.mapper().readTree(clusterDir.resolve("cluster.json").toFile());
    } catch (IOException e) {
      throw new AssertionError("cannot read " + clusterDir.resolve("cluster.json"), e);
    }
  }

  /** The pids of the controller and every agent, to be killed by pid after the tests. */
  List<Long> componentPids() {
    JsonNode c = clusterFile();
    var pids = new ArrayList<Long>();
    pids.add(c.at("/controller/pid").asLong());
    c.get("agents").forEach(a -> pids.add(a.get("pid").asLong()));
    return pids;
  }

  /** The serial console of {@code vm} on {@code host}. */
  GuestConsole console(String host, String vm) {
    return new GuestConsole(clusterDir.resolve("hosts").resolve(host).resolve("vms").resolve(vm).resolve("run/console.log"));
  }

  static Path jar() {
    Path jar = Path.of("target", "ferry.jar").toAbsolutePath();
    if (!Files.isRegularFile(jar)) throw new IllegalStateException("no " + jar + ": integration tests run after package");
    return jar;
  }

  Result run(String... args) {
    try {
      Process p = cliProcess(CliAotCache.flags(), List.of(args)).start();
      var out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
      var err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
      if (!p.waitFor(3, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError("ferry " + String.join(" ", args) + " did not finish in 3 minutes");
      }
      // trained after a call that worked against a controller: then its controller answers
      if (p.exitValue() == 0 && controllerKnown()) CliAotCache.trainOnce(this::cliProcess);
      return new Result(p.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      throw new AssertionError("cannot run ferry: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /**
   * The CLI as a process: {@code jvmFlags} added to the JVM's options, {@code args} after the jar.
   * C1 only: a CLI call lives a second, too short for C2 to pay back its compile threads, which on a
   * 2-core machine take CPU from the TCG guests; the ITs make hundreds of these calls (polls). The
   * daemons `cluster up` starts do not inherit it: they run on the JVM's defaults.
   */
  private ProcessBuilder cliProcess(List<String> jvmFlags, List<String> args) {
    var cmd = new ArrayList<String>(prefix);
    cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1"));
    cmd.addAll(jvmFlags);
    cmd.addAll(List.of("-jar", jar().toString()));
    cmd.addAll(args);
    var pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().put("FERRY_CLUSTER_DIR", clusterDir.toString());
    pb.environment().remove("FERRY_CONTROLLER");
    pb.environment().remove("FERRY_TOKEN");
    pb.environment().putAll(env);
    return pb;
  }

  /** Whether a call reaches a controller: the training run of the AOT cache must take the HTTPS path. */
  private boolean controllerKnown() {
    return env.containsKey("FERRY_CONTROLLER") || Files.isRegularFile(clusterDir.resolve("cluster.json"));
  }

  /** Starts the CLI without waiting: a long-running command (a client) whose stdin and stdout the test drives. */
  Process start(String... args) throws IOException {
    var cmd = new ArrayList<String>(prefix);
    cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-jar", jar().toString()));
    cmd.addAll(List.of(args));
    var pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("FERRY_CLUSTER_DIR", clusterDir.toString());
    pb.environment().putAll(env);
    return pb.start();
  }

  /** Runs and insists on exit 0. */
  Result ok(String... args) {
    Result r = run(args);
    if (r.exit() != 0) {
      throw new AssertionError("ferry " + String.join(" ", args) + " failed: " + r + componentLogs(args));
    }
    return r;
  }

  /**
   * A failed {@code cluster} command's evidence, which the test's temporary directory takes with it:
   * the last lines of each component's log.
   */
  private String componentLogs(String... args) {
    if (args.length == 0 || !args[0].equals("cluster")) return "";
    StringBuilder out = new StringBuilder();
    try (var logs = java.nio.file.Files.list(clusterDir.resolve("logs"))) {
      for (Path log : logs.sorted().toList()) {
        List<String> lines = java.nio.file.Files.readAllLines(log);
        out.append("\n--- ").append(log.getFileName()).append(" (last 15 of ").append(lines.size()).append(" lines)\n");
        lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> out.append(l).append('\n'));
      }
    } catch (IOException | RuntimeException e) {
      out.append("\n(no component logs: ").append(e.getMessage()).append(')');
    }
    return out.toString();
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e.getMessage() + ")";
    }
  }
}
