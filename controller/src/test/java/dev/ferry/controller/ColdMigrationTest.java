package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ColdMigrationRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cold migration's decisions against scripted agents, where no QEMU is needed to prove them: what
 * a guest that ignores the power button leads to, and a target that already has a VM of the
 * name. The copy itself is proven against real agents in ColdMigrationIT; the controller's
 * restart in each phase and the agents' deaths are in {@link ColdFaultMatrixTest}.
 */
class ColdMigrationTest {

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

  /**
   * Issue 13: "--shutdown ... fails cleanly, VM still running, if it does not [power off] within
   * the timeout". Before, the agent's stop killed the guest at the timeout and the migration went
   * on with a disk whose page cache was lost.
   */
  @Test
  void cold_guestIgnoresThePowerButton_failsWithTheVmStillRunningOnTheSource() throws Exception {
    host1.refusesPowerDown.add("web");

    TestCluster.Reply reply = c.post("/api/migrations/cold",
        new ColdMigrationRequest("web", "host2", null, null, true, "1s", null, null, null, null));
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    JsonNode done = c.awaitFinal(reply.json().get("id").asText(), Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("vm 'web' did not power off within 1 s")
        .contains("it keeps running on host 'host1'");
    assertThat(host1.vms.get("web").state()).isEqualTo(VmState.RUNNING);
    assertThat(host1.changes()).contains("POST /agent/vms/web/powerdown")
        .noneMatch(call -> call.endsWith("/stop") || call.endsWith("/kill") || call.endsWith("/start"));
    assertThat(host2.changes()).noneMatch(call -> call.startsWith("PUT /agent/vms/") || call.startsWith("DELETE /agent/vms/"));
    JsonNode vm = c.get("/api/vms/web").json();
    assertThat(vm.get("host").asText()).isEqualTo("host1");
  }

  /**
   * A VM of the same name on the target (a leftover, or defined behind Ferry's back) would be
   * redefined by the migration and deleted by its rollback: preflight refuses, naming it, and
   * touches nothing.
   */
  @Test
  void cold_targetHasAVmOfTheSameName_refusedWith409AndLeftAlone() throws Exception {
    AgentVmStatus web = host1.vms.get("web");
    host2.vms.put("web", new AgentVmStatus("web", VmState.STOPPED, null, web.memoryRequestedBytes(),
        web.memoryGivenBytes(), null, web.machineType(), web.accelerator()));

    TestCluster.Reply reply = c.post("/api/migrations/cold",
        new ColdMigrationRequest("web", "host2", null, null, true, null, null, null, null, null));

    assertThat(reply.status()).as(reply.body()).isEqualTo(409);
    assertThat(reply.body()).contains("host 'host2' already has a vm named 'web'");
    assertThat(host2.vms).containsKey("web");
    assertThat(host2.changes()).isEmpty();
    assertThat(host1.changes()).isEmpty();
  }

  /** Issue 13: "a missing machine type is a preflight refusal naming it". */
  @Test
  void cold_targetQemuLacksTheMachineType_refusedWith409NamingIt() throws Exception {
    String type = c.get("/api/vms/web").json().get("machine_type").asText();
    host2.machineTypes = List.of("pc", "pc-i440fx-7.2", "microvm");
    host2.heartbeat(c.controller.url());

    TestCluster.Reply reply = c.post("/api/migrations/cold",
        new ColdMigrationRequest("web", "host2", null, null, true, null, null, null, null, null));

    assertThat(reply.status()).as(reply.body()).isEqualTo(409);
    assertThat(reply.body()).contains("host 'host2' lacks machine type '" + type + "' of vm 'web'");
    assertThat(host2.changes()).isEmpty();
    assertThat(host1.changes()).isEmpty();
  }

  /** The same VM moves on once the target reports the type: the refusal came from the type alone. */
  @Test
  void cold_targetQemuHasTheMachineType_passesThatCheck() throws Exception {
    String type = c.get("/api/vms/web").json().get("machine_type").asText();
    host2.machineTypes = List.of("pc", "pc-i440fx-7.2", type);
    host2.heartbeat(c.controller.url());
    host1.refusesPowerDown.add("web"); // ends the migration at the shutdown, before any copy

    TestCluster.Reply reply = c.post("/api/migrations/cold",
        new ColdMigrationRequest("web", "host2", null, null, true, "1s", null, null, null, null));

    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    c.awaitFinal(reply.json().get("id").asText(), Duration.ofSeconds(20));
  }

  /**
   * Issue 13 faults: the target pool fills up mid-copy (the agent's copy fails with the write
   * error). The record says why, the target's copy is removed, nothing is defined there, and the
   * VM, powered off for the move, runs again on host1.
   */
  @Test
  void cold_targetPoolFullDuringTheCopy_failsExplainedAndLeavesNothingOnHost2() throws Exception {
    host2.coldCopyError = "disk disk0: write at offset 805306368: No space left on device";

    TestCluster.Reply reply = c.post("/api/migrations/cold",
        new ColdMigrationRequest("web", "host2", null, null, true, "5s", true, null, null, null));
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    JsonNode done = c.awaitFinal(reply.json().get("id").asText(), Duration.ofSeconds(20));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("the copy to host 'host2' failed")
        .contains("No space left on device");
    assertThat(host2.coldCopies).isEmpty();
    assertThat(host2.vms).doesNotContainKey("web");
    assertThat(host2.changes()).anyMatch(call -> call.startsWith("DELETE /agent/cold-copies/"))
        .noneMatch(call -> call.startsWith("PUT /agent/vms/"));
    assertThat(host1.vms.get("web").state()).isEqualTo(VmState.RUNNING);
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }
}
