package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Roles, host credentials and the audit log, decided by the REST layer against fake agents (no QEMU). */
class AccessTest {

  @TempDir Path dir;
  TestCluster c;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    c.twoHostsWithWebOnShared();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void viewer_canList_butNotMigrateNorCreate_andIsToldTheRoleNeeded() throws Exception {
    String viewer = c.token("alice", "viewer");
    assertThat(c.send("GET", "/api/vms", null, viewer).status()).isEqualTo(200);
    assertThat(c.send("GET", "/api/migrations", null, viewer).status()).isEqualTo(200);

    TestCluster.Reply migrate = c.send("POST", "/api/migrations/live", json(live()), viewer);
    assertThat(migrate.status()).isEqualTo(403);
    assertThat(migrate.json().get("detail").asText()).contains("needs role operator").contains("'alice' has role viewer");
    assertThat(c.get("/api/migrations").json()).isEmpty();
    assertThat(c.send("POST", "/api/vms/web/stop", null, viewer).status()).isEqualTo(403);
  }

  @Test
  void operator_runsVmsAndMigrations_butNotPoolsNorTokens() throws Exception {
    String operator = c.token("ops", "operator");
    assertThat(c.send("POST", "/api/migrations/live", json(live()), operator).status()).isEqualTo(201);
    TestCluster.Reply pool = c.send("POST", "/api/pools", json(new PoolCreateRequest("x", "host1", "/pools/x", false)),
        operator);
    assertThat(pool.status()).isEqualTo(403);
    assertThat(pool.json().get("detail").asText()).contains("needs role admin");
    assertThat(c.send("POST", "/api/tokens", json(Map.of("name", "mine", "role", "admin")), operator).status())
        .isEqualTo(403);
    assertThat(c.send("POST", "/api/hosts/host9/credential", null, operator).status()).isEqualTo(403);
  }

  @Test
  void unknownOrRevokedToken_is401_andListNeverShowsSecrets() throws Exception {
    String viewer = c.token("bob", "viewer");
    assertThat(c.send("GET", "/api/vms", null, "f".repeat(64)).status()).isEqualTo(401);
    TestCluster.Reply list = c.get("/api/tokens");
    assertThat(list.body()).contains("\"bob\"", "\"viewer\"", "\"admin\"").doesNotContain(viewer)
        .doesNotContain(c.controller.token());
    assertThat(c.delete("/api/tokens/bob").status()).isEqualTo(204);
    assertThat(c.send("GET", "/api/vms", null, viewer).status()).isEqualTo(401);
    assertThat(c.delete("/api/tokens/admin").status()).as("the last admin token stays").isEqualTo(409);
  }

  @Test
  void store_holdsHashesOnly() throws Exception {
    String viewer = c.token("carol", "viewer");
    String hostSecret = c.enroll("host7");
    c.controller.close();
    byte[] db = Files.readAllBytes(dir.resolve("ferry.db"));
    String all = new String(db, java.nio.charset.StandardCharsets.ISO_8859_1);
    Path wal = dir.resolve("ferry.db-wal");
    if (Files.exists(wal)) all += new String(Files.readAllBytes(wal), java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(all).doesNotContain(viewer).doesNotContain(hostSecret).doesNotContain(c.controller.token())
        .contains(dev.ferry.api.auth.SecretFile.sha256(viewer));
    c.controller = Controller.start(c.config);
  }

  @Test
  void hostCredential_isRefusedOnUserEndpoints_andSpeaksOnlyForItsHost() throws Exception {
    String host1 = c.agents.get(0).token;
    String host2 = c.agents.get(1).token;
    TestCluster.Reply asUser = c.send("GET", "/api/vms", null, host1);
    assertThat(asUser.status()).isEqualTo(403);
    assertThat(asUser.json().get("detail").asText()).contains("host credential");
    assertThat(c.send("POST", "/api/vms/web/stop", null, host1).status()).isEqualTo(403);

    // host2's credential, host1's name and a URL of its choosing: refused, host1 keeps its URL
    String url = c.get("/api/hosts").json().get(0).get("url").asText();
    byte[] forged = Json.mapper().writeValueAsBytes(Json.mapper().readTree(
        Json.mapper().writeValueAsString(c.agents.get(0).host())));
    var node = (com.fasterxml.jackson.databind.node.ObjectNode) Json.mapper().readTree(forged);
    node.put("url", "http://127.0.0.1:9");
    TestCluster.Reply r = c.send("POST", "/api/agents/heartbeat", node.toString(), host2);
    assertThat(r.status()).isEqualTo(403);
    assertThat(r.json().get("detail").asText()).contains("'host2'").contains("'host1'");
    assertThat(c.get("/api/hosts").json().get(0).get("url").asText()).isEqualTo(url);

    // a user token, even the admin's, cannot send a heartbeat
    assertThat(c.send("POST", "/api/agents/heartbeat", node.toString(), c.controller.token()).status()).isEqualTo(403);
    // a re-enrolled host's old credential is refused
    c.enroll("host1");
    assertThat(c.send("POST", "/api/agents/heartbeat", Json.mapper().writeValueAsString(c.agents.get(0).host()), host1)
        .status()).isEqualTo(401);
  }

  @Test
  void everyMutatingCall_isAudited_refusedOnesToo_butNotAcceptedHeartbeats() throws Exception {
    String viewer = c.token("dave", "viewer");
    c.send("POST", "/api/migrations/live", json(live()), viewer);
    c.send("DELETE", "/api/vms/web", null, "0".repeat(64));
    c.post("/api/vms/web/stop", null);
    c.agents.get(0).heartbeat(c.controller.url());

    JsonNode audit = c.get("/api/audit").json();
    List<String> lines = new ArrayList<>();
    for (JsonNode e : audit) {
      lines.add(e.get("actor").asText() + " " + e.get("action").asText() + " " + e.get("target").asText() + " "
          + e.get("outcome").asText() + " " + e.get("status").asInt());
    }
    assertThat(lines).containsSubsequence(
        "admin vm.stop web ok 200",
        "- DELETE /api/vms/web null refused 401",
        "dave migration.live web refused 403",
        "admin token.create dave ok 201",
        "admin vm.create web ok 201",
        "admin pool.create shared ok 201");
    assertThat(lines).filteredOn(l -> l.contains("heartbeat")).isEmpty();
    assertThat(audit.get(0).get("at").asText()).isNotBlank();
    assertThat(audit.get(2).get("detail").asText()).contains("needs role operator");

    assertThat(c.get("/api/audit?actor=dave").json()).hasSize(1);
    assertThat(c.get("/api/audit?limit=2").json()).hasSize(2);
    long second = audit.get(1).get("id").asLong();
    assertThat(c.get("/api/audit?limit=1&before=" + second).json().get(0).get("id").asLong()).isLessThan(second);
    assertThat(c.send("GET", "/api/audit", null, viewer).status()).isEqualTo(403);
  }

  private static LiveMigrationRequest live() {
    return new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, null, null);
  }

  private static String json(Object o) throws Exception {
    return Json.mapper().writeValueAsString(o);
  }

  @SuppressWarnings("unused")
  private static VmCreateRequest vm(String name) {
    return new VmCreateRequest(name, "host1", GIB, 1, "/pools/shared/vmlinuz", null, null, null, List.of(), true);
  }
}
