package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.DiskRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmLifecycleTest {

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);
    host1.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void stop_withTimeout_forwardsTimeoutAndShowsStopped() throws Exception {
    TestCluster.Reply r = c.post("/api/vms/web/stop?timeout_ms=5000", null);
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("state").asText()).isEqualTo("stopped");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/stop", "timeout_ms=5000");
    assertThat(c.get("/api/hosts").json().get(0).get("memory_committed_bytes").asLong()).isZero();
  }

  @Test
  void action_unknown_is400NamingAction() throws Exception {
    TestCluster.Reply r = c.post("/api/vms/web/reboot", null);
    assertThat(r.status()).isEqualTo(400);
    assertThat(r.field()).isEqualTo("action");
  }

  @Test
  void action_unknownVm_is404() throws Exception {
    assertThat(c.post("/api/vms/nope/start", null).status()).isEqualTo(404);
  }

  @Test
  void delete_whileRunning_is409AndKeepsVm() throws Exception {
    TestCluster.Reply r = c.delete("/api/vms/web");
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("running");
    assertThat(c.vmCount()).isEqualTo(1);
  }

  @Test
  void delete_whenStopped_removesVmAndItsDisks() throws Exception {
    c.post("/api/vms/web/kill", null);
    assertThat(c.delete("/api/vms/web").status()).isEqualTo(204);
    assertThat(c.vmCount()).isZero();
    assertThat(host1.vms).isEmpty();
    assertThat(host1.volumes).isEmpty();
    assertThat(c.get("/api/vms/web").status()).isEqualTo(404);
  }

  @Test
  void console_withTail_isForwardedWithTheHost() throws Exception {
    TestCluster.Reply r = c.get("/api/vms/web/console?tail=10");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("host").asText()).isEqualTo("host1");
    assertThat(r.json().get("text").asText()).isEqualTo("hello\n");
    assertThat(c.get("/api/vms/web/console?offset=-1").status()).isEqualTo(400);
  }

  @Test
  void start_ofStoppedVmThatNoLongerFits_is409() throws Exception {
    c.post("/api/vms/web/stop", null);
    assertThat(c.post("/api/vms", new VmCreateRequest("big", "host1", 7 * GIB + GIB / 2, 1,
        "/pools/host1/local/vmlinuz", null, null, null, List.of(), true)).status()).isEqualTo(201);
    TestCluster.Reply r = c.post("/api/vms/web/start", null);
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("memory_bytes");
  }
}
