package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RestartTest {

  @TempDir Path dir;
  TestCluster c;

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void restart_onSameDataDir_keepsInventoryAndHostsComeBackOnHeartbeat() throws Exception {
    c = new TestCluster(dir, Duration.ofMillis(800));
    FakeAgent host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);

    c.restart();

    assertThat(c.get("/api/hosts").json().get(0).get("name").asText()).isEqualTo("host1");
    JsonNode pool = c.get("/api/pools").json().get(0);
    assertThat(pool.get("name").asText()).isEqualTo("local");
    assertThat(pool.get("path").asText()).isEqualTo("/pools/host1/local");
    JsonNode vm = c.get("/api/vms").json().get(0);
    assertThat(vm.get("name").asText()).isEqualTo("web");
    assertThat(vm.get("disks").get(0).get("path").asText()).isEqualTo("/pools/host1/local/web-disk0.qcow2");

    c.awaitHostState("host1", "unreachable", Duration.ofSeconds(3));
    assertThat(c.get("/api/vms").json().get(0).get("state").asText()).isEqualTo("unknown");
    host1.heartbeat(c.controller.url());
    assertThat(c.hostState("host1")).isEqualTo("online");
    assertThat(c.get("/api/vms/web").json().get("state").asText()).isEqualTo("running");
  }
}
