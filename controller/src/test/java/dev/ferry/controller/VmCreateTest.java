package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmCreateTest {

  static final String KERNEL = "/pools/host1/local/vmlinuz";

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

  static VmCreateRequest web(List<DiskRequest> disks, Boolean start) {
    return new VmCreateRequest("web", "host1", GIB, 2, KERNEL, null, "console=ttyS0", null, disks, start);
  }

  @Test
  void create_happyPath_createsVolumesThenDefinesThenStarts() throws Exception {
    TestCluster.Reply r = c.post("/api/vms", web(List.of(new DiskRequest(GIB, null, null),
        new DiskRequest(2 * GIB, "local", "raw")), null));

    assertThat(r.status()).isEqualTo(201);
    assertThat(host1.changes()).containsExactly(
        "POST /agent/volumes", "POST /agent/volumes", "PUT /agent/vms/web", "POST /agent/vms/web/start");
    JsonNode vm = r.json();
    assertThat(vm.get("host").asText()).isEqualTo("host1");
    assertThat(vm.get("state").asText()).isEqualTo("running");
    assertThat(vm.get("machine_type").asText()).isEqualTo("pc-q35-8.2");
    assertThat(vm.get("cpu_model").asText()).isEqualTo("qemu64");
    assertThat(vm.get("pid").asLong()).isEqualTo(4242);
    JsonNode disk0 = vm.get("disks").get(0);
    assertThat(disk0.get("id").asText()).isEqualTo("disk0");
    assertThat(disk0.get("pool").asText()).isEqualTo("local");
    assertThat(disk0.get("format").asText()).isEqualTo("qcow2");
    assertThat(disk0.get("path").asText()).isEqualTo("/pools/host1/local/web-disk0.qcow2");
    assertThat(vm.get("disks").get(1).get("path").asText()).isEqualTo("/pools/host1/local/web-disk1.raw");
    assertThat(c.get("/api/vms/web").json().get("disks")).hasSize(2);
    assertThat(host1.vms.get("web").memoryGivenBytes()).isEqualTo(GIB);
  }

  @Test
  void create_withStartFalse_definesButDoesNotStart() throws Exception {
    TestCluster.Reply r = c.post("/api/vms", web(List.of(), false));
    assertThat(r.status()).isEqualTo(201);
    assertThat(host1.changes()).containsExactly("PUT /agent/vms/web");
    assertThat(r.json().get("state").asText()).isEqualTo("stopped");
  }

  @Test
  void create_commitsMemoryOnTheHost() throws Exception {
    c.post("/api/vms", web(List.of(), true));
    JsonNode h = c.get("/api/hosts").json().get(0);
    assertThat(h.get("memory_committed_bytes").asLong()).isEqualTo(GIB);
    assertThat(h.get("cpus_committed").asInt()).isEqualTo(2);
  }

  @Test
  void create_sameNameTwice_is409AndKeepsTheFirst() throws Exception {
    assertThat(c.post("/api/vms", web(List.of(), true)).status()).isEqualTo(201);
    host1.calls.clear();
    TestCluster.Reply r = c.post("/api/vms", web(List.of(), true));
    assertThat(r.status()).isEqualTo(409);
    assertThat(r.field()).isEqualTo("name");
    assertThat(host1.changes()).isEmpty();
    assertThat(c.vmCount()).isEqualTo(1);
  }

  @Test
  void create_agentFailsDefine_deletesCreatedVolumesAndStoresNothing() throws Exception {
    host1.failOn = "PUT /agent/vms/web";
    TestCluster.Reply r = c.post("/api/vms", web(List.of(new DiskRequest(GIB, null, null)), true));

    assertThat(r.status()).isEqualTo(502);
    assertThat(r.json().get("detail").asText()).contains("host1").contains("injected failure");
    assertThat(host1.changes()).containsExactly("POST /agent/volumes", "PUT /agent/vms/web",
        "DELETE /agent/vms/web", "DELETE /agent/volumes/local/web-disk0.qcow2");
    assertThat(host1.volumes).isEmpty();
    assertThat(c.vmCount()).isZero();
  }

  @Test
  void create_agentFailsStart_undefinesAndDeletesVolumes() throws Exception {
    host1.failOn = "POST /agent/vms/web/start";
    TestCluster.Reply r = c.post("/api/vms", web(List.of(new DiskRequest(GIB, null, null)), true));

    assertThat(r.status()).isEqualTo(502);
    assertThat(host1.vms).isEmpty();
    assertThat(host1.volumes).isEmpty();
    assertThat(c.vmCount()).isZero();
  }

  @Test
  void create_agentUnreachable_is503NamingHostAndUrl() throws Exception {
    String url = host1.url();
    host1.close();
    TestCluster.Reply r = c.post("/api/vms", web(List.of(), true));
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.json().get("detail").asText()).contains("host1").contains(url);
    assertThat(c.vmCount()).isZero();
  }

  @Test
  void create_kernelOutsidePools_relaysAgents400Unchanged() throws Exception {
    VmCreateRequest outside = new VmCreateRequest("web", "host1", GIB, 1, "/etc/passwd", null, null, null,
        List.of(new DiskRequest(GIB, null, null)), true);
    TestCluster.Reply r = c.post("/api/vms", outside);

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.contentType()).startsWith("application/problem+json");
    assertThat(r.field()).isEqualTo("kernel");
    assertThat(r.json().get("allowed").asText()).contains("pools of host 'host1'");
    assertThat(host1.volumes).isEmpty();
    assertThat(host1.vms).isEmpty();
    assertThat(c.vmCount()).isZero();
  }
}
