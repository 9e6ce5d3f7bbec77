package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ferry} CLI run in this process against the bench's controller: the very commands a
 * user types ({@code ferry vm create …}, {@code ferry migrate live VM --to HOST}), parsed with
 * their own defaults, so the bench sends exactly what they send. The environment names the
 * controller and its token; a cluster directory of the bench's own keeps a user's local cluster
 * out of it.
 */
final class FerryCli {

  @Command(name = "ferry")
  static final class Root {}

  private final CliContext ctx;

  FerryCli(String controllerUrl, String token, Path work) {
    this.ctx = new CliContext(Map.of("FERRY_CONTROLLER", controllerUrl, "FERRY_TOKEN", token,
        "FERRY_CLUSTER_DIR", work.resolve("no-local-cluster").toString()), work, Duration.ofMillis(200));
  }

  /** Runs {@code ferry ARGS}; answers its stdout, or throws with its error line when it did not exit 0. */
  String run(String... args) {
    CommandLine root = new CommandLine(new Root());
    Cli.register(root, ctx);
    var out = new StringWriter();
    var err = new StringWriter();
    root.setOut(new PrintWriter(out));
    root.setErr(new PrintWriter(err));
    Cli.configure(root);
    int exit = root.execute(args);
    if (exit != Cli.OK) {
      throw new IllegalStateException("ferry " + String.join(" ", args) + " exited " + exit + ": " + err.toString().strip());
    }
    return out.toString();
  }

  /** {@code ferry ARGS --json}, read as {@code type}. */
  <T> T json(Class<T> type, String... args) {
    String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
    withJson[args.length] = "--json";
    try {
      return Json.answers().readValue(run(withJson), type);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("ferry " + String.join(" ", args) + ": unreadable JSON: " + e.getMessage(), e);
    }
  }

  JsonNode json(String... args) {
    return json(JsonNode.class, args);
  }
}
