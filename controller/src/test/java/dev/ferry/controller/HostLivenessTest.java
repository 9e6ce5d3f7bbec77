package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostLivenessTest {

  static final Duration TIMEOUT = Duration.ofMillis(1200);

  @TempDir Path dir;
  TestCluster c;

  @BeforeEach
  void start() {
    c = new TestCluster(dir, TIMEOUT);
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void heartbeat_fromNewHost_registersItOnlineWithItsResources() throws Exception {
    c.agent("host1", 4L << 30);
    JsonNode h = c.get("/api/hosts").json().get(0);
    assertThat(h.get("name").asText()).isEqualTo("host1");
    assertThat(h.get("state").asText()).isEqualTo("online");
    assertThat(h.get("memory_bytes").asLong()).isEqualTo(4L << 30);
    assertThat(h.get("url").asText()).startsWith("http://127.0.0.1:");
    assertThat(h.get("qemu_version").asText()).isEqualTo("8.2.2");
  }

  @Test
  void heartbeats_stopThenResume_hostGoesUnreachableThenOnline() throws Exception {
    FakeAgent a = c.agent("host1", 4L << 30);
    a.startHeartbeats(c.controller.url(), 200);
    Thread.sleep(TIMEOUT.toMillis() + 500);
    assertThat(c.hostState("host1")).isEqualTo("online");

    a.stopHeartbeats();
    c.awaitHostState("host1", "unreachable", TIMEOUT.plusSeconds(2));

    a.heartbeat(c.controller.url());
    assertThat(c.hostState("host1")).isEqualTo("online");
  }

  @Test
  void vmOfUnreachableHost_showsUnknownButKeepsStoredState() throws Exception {
    FakeAgent a = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", 1L << 30, 1, "/pools/host1/local/vmlinuz",
        null, null, null, List.of(), true)).status()).isEqualTo(201);

    c.awaitHostState("host1", "unreachable", TIMEOUT.plusSeconds(2));
    assertThat(c.get("/api/vms/web").json().get("state").asText()).isEqualTo("unknown");
    assertThat(c.get("/api/vms").json().get(0).get("state").asText()).isEqualTo("unknown");

    a.heartbeat(c.controller.url());
    assertThat(c.get("/api/vms").json().get(0).get("state").asText()).isEqualTo("running");
  }
}
