package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.VmState;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.api.agent.AgentVmStatus;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warm migration's preflight against scripted agents: the refusals cold migration makes the same
 * way. Before, warm checked neither: a same-name VM on the target was redefined at the cutover and
 * deleted by a rollback, and a missing machine type refused the definition only after every pass.
 * The faults are in {@link WarmFaultMatrixTest}; the copy itself in WarmMigrationIT.
 */
class WarmMigrationTest {

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    List<FakeAgent> hosts = c.twoHostsWithWebOnShared();
    host1 = hosts.get(0);
    host2 = hosts.get(1);
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void warm_targetHasAVmOfTheSameName_refusedWith409AndLeftAlone() throws Exception {
    AgentVmStatus web = host1.vms.get("web");
    host2.vms.put("web", new AgentVmStatus("web", VmState.STOPPED, null, web.memoryRequestedBytes(),
        web.memoryGivenBytes(), null, web.machineType(), web.accelerator()));

    TestCluster.Reply reply = c.post("/api/migrations/warm", request());

    assertThat(reply.status()).as(reply.body()).isEqualTo(409);
    assertThat(reply.body()).contains("host 'host2' already has a vm named 'web'");
    assertThat(host2.vms).containsKey("web");
    assertThat(host2.changes()).isEmpty();
    assertThat(host1.changes()).isEmpty();
  }

  /** Issue 13: "a missing machine type is a preflight refusal naming it", warm as cold. */
  @Test
  void warm_targetQemuLacksTheMachineType_refusedWith409NamingIt() throws Exception {
    String type = c.get("/api/vms/web").json().get("machine_type").asText();
    host2.machineTypes = List.of("pc", "pc-i440fx-7.2", "microvm");
    host2.heartbeat(c.controller.url());

    TestCluster.Reply reply = c.post("/api/migrations/warm", request());

    assertThat(reply.status()).as(reply.body()).isEqualTo(409);
    assertThat(reply.body()).contains("host 'host2' lacks machine type '" + type + "' of vm 'web'");
    assertThat(host2.changes()).isEmpty();
    assertThat(host1.changes()).isEmpty();
  }

  private static WarmMigrationRequest request() {
    return new WarmMigrationRequest("web", "host2", null, null, null, "manual", null, null, null);
  }
}
