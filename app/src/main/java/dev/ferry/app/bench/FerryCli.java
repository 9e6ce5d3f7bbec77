package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.MigrationView;
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
  private final String controllerUrl;
  private final String token;
  private final java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();

  FerryCli(String controllerUrl, String token, Path work) {
    this.ctx = new CliContext(Map.of("FERRY_CONTROLLER", controllerUrl, "FERRY_TOKEN", token,
        "FERRY_CLUSTER_DIR", work.resolve("no-local-cluster").toString()), work, Duration.ofMillis(200));
    this.controllerUrl = controllerUrl;
    this.token = token;
  }

  /**
   * The migration's record as {@code ferry migration show ID --json} prints it, read from the REST
   * API it calls. For the bench's poll loop, 10 times a second while the migration runs: the CLI
   * builds picocli's whole command tree on each call, and under JFR that was the largest CPU user
   * of this process during Ferry's migrations (151 of 416 samples in a mem-64 run), CPU that on 2
   * cores is taken from the guest's QEMU and counted in Ferry's total. The peers' loop reads the
   * source agent as cheaply.
   */
  MigrationView migration(String id) {
    var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(controllerUrl + "/api/migrations/" + id))
        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10)).GET().build();
    try {
      var resp = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("GET /api/migrations/" + id + " answered " + resp.statusCode() + ": " + resp.body());
      }
      return Json.answers().readValue(resp.body(), MigrationView.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("GET /api/migrations/" + id + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading migration " + id, e);
    }
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
