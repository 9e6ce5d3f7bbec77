package dev.ferry.controller;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.PoolCreateRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real controller on a loopback port with a temporary data dir, fake agents that heartbeat to
 * it, and a small HTTP client speaking to its API with the cluster token.
 */
final class TestCluster implements AutoCloseable {

  static final long GIB = 1L << 30;

  final Path dir;
  final Duration hostTimeout;
  final ControllerConfig config;
  Controller controller;
  final List<FakeAgent> agents = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  /** The answer to one request: status, content type and body. */
  record Reply(int status, String contentType, String body) {
    JsonNode json() {
      try {
        return Json.mapper().readTree(body);
      } catch (Exception e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }

    /** The problem's {@code field}, or null. */
    String field() {
      JsonNode f = json().get("field");
      return f == null ? null : f.asText();
    }
  }

  TestCluster(Path dir, Duration hostTimeout) {
    this(ControllerConfig.loopback(dir, hostTimeout));
  }

  TestCluster(ControllerConfig config) {
    this.config = config;
    this.dir = config.dataDir();
    this.hostTimeout = config.hostTimeout();
    this.controller = Controller.start(config);
  }

  TestCluster(Path dir) {
    this(dir, Duration.ofSeconds(10));
  }

  /** A fake agent, enrolled (its own credential) and registered by one heartbeat. */
  FakeAgent agent(String name, long memoryBytes) throws Exception {
    FakeAgent a = new FakeAgent(name, enroll(name), controller.agentCallCredential(), memoryBytes);
    agents.add(a);
    a.heartbeat(controller.url());
    return a;
  }

  /** A new credential for host {@code name}, as {@code ferry host enroll} asks for it. */
  String enroll(String name) throws Exception {
    Reply r = post("/api/hosts/" + name + "/credential", null);
    if (r.status() != 201) throw new AssertionError("enroll " + name + ": " + r);
    return r.json().get("credential").asText();
  }

  /** A token of {@code role} named {@code name}, created by the first admin. */
  String token(String name, String role) throws Exception {
    Reply r = post("/api/tokens", java.util.Map.of("name", name, "role", role));
    if (r.status() != 201) throw new AssertionError("token create " + name + ": " + r);
    return r.json().get("token").asText();
  }

  /** A host with 8 GiB and a pool {@code local} at /pools/NAME/local. */
  FakeAgent hostWithLocalPool(String name) throws Exception {
    FakeAgent a = agent(name, 8 * GIB);
    Reply r = post("/api/pools", new PoolCreateRequest("local", name, "/pools/" + name + "/local", false));
    if (r.status() != 201) throw new AssertionError("pool create: " + r);
    a.calls.clear();
    return a;
  }

  /**
   * The live-migration scene: host1 and host2 with local pools, a pool {@code shared} on both, vm
   * {@code web} (1 GiB, its disk on {@code shared}) running on host1; both hosts heartbeating.
   */
  List<FakeAgent> twoHostsWithWebOnShared() throws Exception {
    FakeAgent host1 = hostWithLocalPool("host1");
    FakeAgent host2 = hostWithLocalPool("host2");
    Reply pool = post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true));
    if (pool.status() != 201) throw new AssertionError("pool create: " + pool);
    Reply vm = post("/api/vms", new dev.ferry.api.VmCreateRequest("web", "host1", GIB, 1, "/pools/shared/vmlinuz", null,
        null, null, List.of(new dev.ferry.api.DiskRequest(GIB, "shared", null)), true));
    if (vm.status() != 201) throw new AssertionError("vm create: " + vm);
    host1.heartbeat(controller.url());
    host2.heartbeat(controller.url());
    return List.of(host1, host2);
  }

  void restart() {
    controller.close();
    controller = Controller.start(config);
  }

  Reply get(String path) throws Exception {
    return send("GET", path, null, controller.token());
  }

  Reply post(String path, Object body) throws Exception {
    return send("POST", path, body == null ? null : Json.mapper().writeValueAsString(body), controller.token());
  }

  Reply postRaw(String path, String body) throws Exception {
    return send("POST", path, body, controller.token());
  }

  Reply delete(String path) throws Exception {
    return send("DELETE", path, null, controller.token());
  }

  Reply send(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(controller.url() + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (token != null) b.header("Authorization", "Bearer " + token);
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
  }

  /** The number of VMs the controller lists. */
  int vmCount() throws Exception {
    return get("/api/vms").json().size();
  }

  String hostState(String name) throws Exception {
    for (JsonNode h : get("/api/hosts").json()) {
      if (h.get("name").asText().equals(name)) return h.get("state").asText();
    }
    return null;
  }

  void awaitHostState(String name, String state, Duration within) {
    await().atMost(within).pollInterval(Duration.ofMillis(50)).until(() -> state.equals(hostState(name)));
  }

  /** Waits until the migration's status is no longer running, and returns its record. */
  JsonNode awaitFinal(String id, Duration within) {
    await().atMost(within).pollInterval(Duration.ofMillis(100))
        .until(() -> !get("/api/migrations/" + id).json().get("status").asText().equals("running"));
    try {
      return get("/api/migrations/" + id).json();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The phases a migration went through, from its persisted migration.phase events. */
  List<String> phases(String id) {
    List<String> out = new ArrayList<>();
    for (var e : controller.eventsAfter(0)) {
      if (e.kind().equals("migration.phase") && e.subject().equals(id)) {
        String p = e.data().get("phase").asText();
        if (out.isEmpty() || !out.getLast().equals(p)) out.add(p);
      }
    }
    return out;
  }

  @Override
  public void close() {
    agents.forEach(FakeAgent::close);
    controller.close();
  }
}
