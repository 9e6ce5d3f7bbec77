package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthTest {

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"/api/hosts", "/api/vms", "/api/pools", "/api/events", "/api/openapi.json", "/api/nothing"})
  void get_withoutToken_is401Problem(String path) throws Exception {
    TestCluster.Reply r = c.send("GET", path, null, null);
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.contentType()).startsWith("application/problem+json");
    assertThat(r.json().get("detail").asText()).contains("bearer token");
  }

  @Test
  void createVm_withWrongToken_is401AndChangesNothing() throws Exception {
    String body = Json.mapper().writeValueAsString(new VmCreateRequest("web", "host1", 1L << 30, 1,
        "/pools/host1/local/vmlinuz", null, null, null, List.of(), true));
    TestCluster.Reply r = c.send("POST", "/api/vms", body, "0".repeat(64));
    assertThat(r.status()).isEqualTo(401);
    assertThat(c.vmCount()).isZero();
    assertThat(host1.calls).isEmpty();
  }

  @Test
  void heartbeat_withWrongToken_registersNothing() throws Exception {
    FakeAgent stranger = new FakeAgent("host9", "bad-token", 1L << 30);
    try {
      assertThat(stranger.heartbeat(c.controller.url())).isEqualTo(401);
      assertThat(c.hostState("host9")).isNull();
    } finally {
      stranger.close();
    }
  }

  @Test
  void tokenFile_onFirstStart_isPrivateHexAndReusedAfterRestart() throws Exception {
    Path file = dir.resolve("token");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(Files.readString(file).strip()).matches("[0-9a-f]{64}").isEqualTo(c.controller.token());
    String before = c.controller.token();
    c.restart();
    assertThat(c.controller.token()).isEqualTo(before);
  }
}
