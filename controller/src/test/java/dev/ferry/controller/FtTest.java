package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.FtBinaryView;
import dev.ferry.api.FtEnableRequest;
import dev.ferry.api.FtView;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NicRequest;
import dev.ferry.api.agent.FtNicPorts;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's decisions for {@code ft enable | status | disable | failover} (issue 12) against
 * scripted agents: the phases an enable goes through and what each host is asked, the status
 * fields, the refusals of a protected VM, every preflight refusal changing nothing, a failed enable
 * rolled back, protection surviving a controller restart, and who fails over when (a dead primary
 * QEMU at once, a lost primary host once its fencer was silent 800 ms, never for a restarting agent
 * whose fencer heartbeats or whose QEMU keeps checkpointing, the primary when the path between them
 * is cut), a planned failover,
 * and a failover finished by a restarted controller.
 */
class FtTest {

  static final String KERNEL = "/pools/shared/vmlinuz";
  static final FtView CAPABLE = new FtView(true, "/usr/local/lib/ferry/qemu/k/bin/qemu-system-x86_64",
      "3 checkpoints and a failover in 1.2 s", List.of());

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    host2 = c.hostWithLocalPool("host2");
    for (FakeAgent a : List.of(host1, host2)) {
      a.ft = CAPABLE;
      a.primaryPhase = vm -> host1.ftPhase.get(vm);
      a.heartbeat(c.controller.url());
    }
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", vm("web", true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  static VmCreateRequest vm(String name, boolean ftReady) {
    return new VmCreateRequest(name, "host1", GIB / 4, 1, KERNEL, null, null, null,
        List.of(new DiskRequest(GIB, "local", null)), true, null, ftReady ? Boolean.TRUE : null);
  }

  private JsonNode awaitState(String vm, String state) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = c.get("/api/ft/" + vm).json();
      return state.equals(last[0].path("state").asText());
    });
    return last[0];
  }

  private List<String> ftCalls(FakeAgent a) {
    return a.calls.stream().filter(s -> s.contains("/ft")).toList();
  }

  @Test
  void vmCreate_ftReady_definesAnI440fxVmForTheFtQemu() {
    var def = host1.definitions.get("web");
    assertThat(def.ftReady()).isTrue();
    assertThat(def.machineType()).isEqualTo("pc");
  }

  @Test
  void enable_buildsTheSecondaryThenProtects_statusHasTheIssuesFields() throws Exception {
    TestCluster.Reply r = c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().get("state").asText()).isEqualTo("syncing");
    JsonNode st = awaitState("web", "protected");
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/ft/web").json().get("checkpoints").asLong() >= 2);
    st = c.get("/api/ft/web").json();
    var fields = new TreeSet<String>();
    st.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).contains("vm", "state", "primary", "secondary", "checkpoints", "checkpoint_pause_ms",
        "last_checkpoint_at", "failovers", "reason");
    assertThat(st.get("vm").asText()).isEqualTo("web");
    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("secondary").asText()).isEqualTo("host2");
    assertThat(st.get("checkpoint_interval_ms").asInt()).isEqualTo(500);
    assertThat(st.at("/checkpoint_pause_ms/median").asLong()).isEqualTo(50);
    assertThat(st.at("/checkpoint_pause_ms/max").asLong()).isEqualTo(90);
    assertThat(st.get("failovers")).isEmpty();
    // the secondary was built from the primary's definition, FT-ready, one replica per disk in the same pool
    var req = host2.ftSecondaries.get("web");
    assertThat(req.definition().ftReady()).isTrue();
    assertThat(req.replicas()).singleElement().satisfies(d -> {
      assertThat(d.pool()).isEqualTo("local");
      assertThat(d.virtualSize()).isEqualTo(GIB);
    });
    assertThat(req.primaryHost()).isEqualTo("host1");
    assertThat(ftCalls(host2).getFirst()).isEqualTo("PUT /agent/vms/web/ft-secondary");
    assertThat(ftCalls(host1)).contains("POST /agent/vms/web/ft/protect");
    // the states streamed as events, in order
    List<String> states = new ArrayList<>();
    for (var e : c.controller.eventsAfter(0)) {
      if (e.kind().equals("ft.state")) states.add(e.data().get("phase").asText());
    }
    assertThat(states).containsExactly("preparing", "syncing", "protected");
    assertThat(c.get("/api/ft").json()).extracting(n -> n.get("vm").asText()).containsExactly("web");
  }

  @Test
  void enable_vmWithANic_secondaryGetsTheSameNic_primaryGetsTheProxyPorts() throws Exception {
    assertThat(c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0")).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", vmWithNic("app")).status()).isEqualTo(201);
    String mac = c.get("/api/vms/app").json().at("/nics/0/mac").asText();

    assertThat(c.post("/api/ft", new FtEnableRequest("app", "host2", 500, false)).status()).isEqualTo(201);
    awaitState("app", "protected");

    var def = host2.ftSecondaries.get("app").definition();
    assertThat(def.nics()).singleElement().satisfies(n -> {
      assertThat(n.mac()).isEqualTo(mac);
      assertThat(n.bridge()).isEqualTo("vmbr0");
    });
    assertThat(host1.ftProtects.get("app").nicPorts()).containsExactly(new FtNicPorts(49170, 49171));
  }

  @Test
  void enable_storedStateStillPausedFromACheckpoint_agentSaysRunning_isProtected() throws Exception {
    var running = host1.vms.get("web");
    host1.vms.put("web", new dev.ferry.api.agent.AgentVmStatus("web", dev.ferry.api.VmState.PAUSED, running.pid(),
        running.memoryRequestedBytes(), running.memoryGivenBytes(), running.memoryAdjustment(), running.machineType(),
        running.accelerator()));
    host1.heartbeat(c.controller.url());
    assertThat(c.get("/api/vms/web").json().get("state").asText()).isEqualTo("paused");
    host1.vms.put("web", running); // the checkpoint ended; no heartbeat since

    assertThat(c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false)).status()).isEqualTo(201);

    awaitState("web", "protected");
  }

  @Test
  void enable_vmPausedOnItsAgentToo_isRefused() throws Exception {
    var running = host1.vms.get("web");
    host1.vms.put("web", new dev.ferry.api.agent.AgentVmStatus("web", dev.ferry.api.VmState.PAUSED, running.pid(),
        running.memoryRequestedBytes(), running.memoryGivenBytes(), running.memoryAdjustment(), running.machineType(),
        running.accelerator()));
    host1.heartbeat(c.controller.url());

    refused(new FtEnableRequest("web", "host2", 500, false), 409, "vm", "is paused; only a running vm can be protected");
  }

  @Test
  void preflight_secondaryWithoutTheNetworksBridge_isRefusedNamingIt() throws Exception {
    assertThat(c.post("/api/networks", new NetworkCreateRequest("lan", "vmbr0")).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", vmWithNic("app")).status()).isEqualTo(201);
    host2.bridges.clear();
    host2.heartbeat(c.controller.url());

    refused(new FtEnableRequest("app", "host2", 500, false), 409, "secondary", "does not have bridge 'vmbr0' of network 'lan'");
    assertThat(host2.ftSecondaries).isEmpty();
    assertThat(c.get("/api/ft/app").status()).isEqualTo(404);
  }

  private static VmCreateRequest vmWithNic(String name) {
    return new VmCreateRequest(name, "host1", GIB / 4, 1, KERNEL, null, null, null,
        List.of(new DiskRequest(GIB, "local", null)), true, List.of(new NicRequest("lan", null)), Boolean.TRUE);
  }

  @Test
  void protected_refusesMigrationStopAndDelete_killGoesThrough_disableEndsIt() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");

    for (TestCluster.Reply refused : List.of(
        c.post("/api/migrations/live", new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, true, null, null)),
        c.post("/api/migrations/storage", new StorageMigrationRequest("web", "shared", null, null, null, null, null)),
        c.post("/api/vms/web/stop", null),
        c.delete("/api/vms/web"))) {
      assertThat(refused.status()).as(refused.body()).isEqualTo(409);
      assertThat(refused.json().get("detail").asText()).contains("under fault tolerance").contains("disable it first")
          .contains("ferry ft disable web");
    }
    assertThat(c.post("/api/ft", new FtEnableRequest("web", "host2", null, false)).json().get("detail").asText())
        .contains("already under fault tolerance");
    assertThat(host1.calls).doesNotContain("POST /agent/vms/web/stop", "DELETE /agent/vms/web");

    TestCluster.Reply disabled = c.delete("/api/ft/web");

    assertThat(disabled.status()).as(disabled.body()).isEqualTo(204);
    assertThat(c.get("/api/ft/web").status()).isEqualTo(404);
    assertThat(host1.calls).contains("POST /agent/vms/web/ft/unprotect");
    assertThat(host2.calls).contains("DELETE /agent/vms/web/ft-secondary");
    assertThat(host2.ftSecondaries).isEmpty();
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(200);
  }

  @Test
  void protected_killIsNotRefused() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");

    assertThat(c.post("/api/vms/web/kill", null).status()).isEqualTo(200);
  }

  @Test
  void preflight_eachRefusalNamesItsField_andChangesNothing() throws Exception {
    assertThat(c.post("/api/vms", vm("plain", false)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("idle", "host1", GIB / 4, 1, KERNEL, null, null, null,
        List.of(new DiskRequest(GIB, "local", null)), false, null, Boolean.TRUE)).status()).isEqualTo(201);
    FakeAgent small = c.agent("host3", GIB / 4);
    small.ft = CAPABLE;
    small.heartbeat(c.controller.url());
    assertThat(c.post("/api/pools", new PoolCreateRequest("local", "host3", "/pools/host3/local", false)).status())
        .isEqualTo(201);
    FakeAgent stock = c.agent("host4", 8 * GIB);
    stock.ft = new FtView(false, "/usr/bin/qemu-system-x86_64", "the primary stopped answering QMP at the first"
        + " checkpoint (the COLO deadlock of stock 7.2)", List.of(new FtBinaryView("/usr/bin/qemu-system-x86_64", "ab",
        FtBinaryView.UNSUPPORTED, "deadlock", 0, 3400L)));
    stock.heartbeat(c.controller.url());
    FakeAgent noPool = c.agent("host5", 8 * GIB);
    noPool.ft = CAPABLE;
    noPool.heartbeat(c.controller.url());
    host1.calls.clear();
    host2.calls.clear();

    refused(new FtEnableRequest("web", "host1", null, false), 400, "secondary", "must run on another host");
    refused(new FtEnableRequest("web", "nohost", null, false), 404, "secondary", "not known");
    refused(new FtEnableRequest("nosuch", "host2", null, false), 404, "vm", "does not exist");
    refused(new FtEnableRequest("idle", "host2", null, false), 409, "vm", "only a running vm can be protected");
    refused(new FtEnableRequest("plain", "host2", null, false), 409, "vm", "not created ft-ready");
    refused(new FtEnableRequest("web", "host3", null, false), 409, "secondary", "needs 512 MiB");
    refused(new FtEnableRequest("web", "host4", null, false), 409, "secondary", "/usr/bin/qemu-system-x86_64 failed the COLO"
        + " probe: the primary stopped answering QMP");
    refused(new FtEnableRequest("web", "host5", null, false), 409, "secondary", "no pool 'local'");
    refused(new FtEnableRequest("web", "host2", 5, false), 400, "checkpoint_interval_ms", "100-60000");
    refused(new FtEnableRequest("web", null, null, false), 400, "secondary", "the host to run the secondary on");

    assertThat(c.get("/api/ft").json()).isEmpty();
    for (FakeAgent a : List.of(host1, host2, small, stock, noPool)) assertThat(ftCalls(a)).as(a.name).isEmpty();
  }

  @Test
  void preflight_alreadyProtected_isRefusedAndTheProtectionStays() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");
    FakeAgent host3 = c.hostWithLocalPool("host3");
    host3.ft = CAPABLE;
    host3.heartbeat(c.controller.url());

    refused(new FtEnableRequest("web", "host3", null, false), 409, "vm", "already under fault tolerance (protected, secondary on host2)");

    assertThat(c.get("/api/ft/web").json().get("secondary").asText()).isEqualTo("host2");
    assertThat(ftCalls(host3)).isEmpty();
  }

  @Test
  void enable_primaryFailsTheSync_rollsBackToUnprotectedWithTheReason() throws Exception {
    host1.ftFail = "primary: the disk sync of disk0-sync failed: Input/output error";

    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));

    JsonNode st = awaitState("web", "unprotected");
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/ft/web").json().get("phase").asText().equals("failed"));
    st = c.get("/api/ft/web").json();
    assertThat(st.get("reason").asText()).contains("enable failed").contains("Input/output error");
    assertThat(st.get("secondary").isNull()).isTrue();
    assertThat(host2.ftSecondaries).as("the secondary was removed").isEmpty();
    assertThat(host1.calls).contains("POST /agent/vms/web/ft/unprotect");
    // a failed enable does not hold the VM
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(200);
  }

  @Test
  void restart_whileProtected_staysProtectedAndCanBeDisabled() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");

    c.restart();
    for (FakeAgent a : List.of(host1, host2)) a.heartbeat(c.controller.url());

    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(409);
    assertThat(c.delete("/api/ft/web").status()).isEqualTo(204);
    assertThat(host2.ftSecondaries).isEmpty();
  }

  @Test
  void secondaryLost_reprotectsByItself_backToProtected_theReprotectionRecorded() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500));
    awaitState("web", "protected");

    host2.ftSecondaries.clear(); // the agent lost the secondary: its host is still eligible

    JsonNode st = awaitReprotections("web", 1);
    assertThat(st.get("state").asText()).isEqualTo("protected");
    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("secondary").asText()).isEqualTo("host2");
    assertThat(st.get("reprotect").asBoolean()).isTrue();
    assertThat(st.get("reprotections")).singleElement().satisfies(r -> {
      assertThat(r.get("secondary").asText()).isEqualTo("host2");
      assertThat(r.get("took_ms").asLong()).isBetween(0L, 10_000L);
    });
    assertThat(st.get("reason").isNull()).as(st.toString()).isTrue();
    assertThat(host2.calls.stream().filter(s -> s.equals("PUT /agent/vms/web/ft-secondary"))).hasSize(2);
    List<String> states = new ArrayList<>();
    for (var e : c.controller.eventsAfter(0)) if (e.kind().equals("ft.state")) states.add(e.data().get("state").asText());
    assertThat(states).containsSubsequence("protected", "unprotected", "reprotecting", "protected");
  }

  /**
   * The old primary comes back only after the re-protection (a host cut off, its copy fenced but
   * alive): its copy is still removed, while the VM stays protected on host2 and host3.
   */
  @Test
  void primaryDies_survivorReprotectedOnTheThirdHost_notOnTheLostOne_staleCopyRemovedWhenItReturnsLater()
      throws Exception {
    FakeAgent host3 = thirdHost();
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500));
    awaitState("web", "protected");

    host1.die();
    host2.coloStreamClosed = true;
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    JsonNode st = awaitReprotections("web", 1);
    assertThat(st.get("state").asText()).isEqualTo("protected");
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.get("secondary").asText()).isEqualTo("host3");
    assertThat(st.get("failovers")).singleElement().satisfies(f -> assertThat(f.get("to").asText()).isEqualTo("host2"));
    assertThat(st.at("/reprotections/0/secondary").asText()).isEqualTo("host3");
    assertThat(host3.ftSecondaries).containsKey("web");
    assertThat(host3.ftSecondaries.get("web").primaryHost()).isEqualTo("host2");
    assertThat(host2.ftProtects.get("web").secondaryHost()).isEqualTo("host3");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");

    assertThat(host1.vms).as("the cut-off copy is still there while its host is away").containsKey("web");
    host1.calls.clear();
    host1.revive();
    await().atMost(Duration.ofSeconds(10)).until(() -> !host1.vms.containsKey("web"));
    assertThat(host1.calls).containsSubsequence("POST /agent/vms/web/kill", "DELETE /agent/vms/web");
    assertThat(awaitState("web", "protected").get("secondary").asText()).isEqualTo("host3");
  }

  @Test
  void reprotectionFails_rolledBackToUnprotected_guestLeftAlone_hostNotRetriedAtOnce() throws Exception {
    FakeAgent host3 = thirdHost();
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500));
    awaitState("web", "protected");
    host2.ftFail = "primary: cannot reach the secondary's mirror port of the network proxy";

    host1.die();
    host2.coloStreamClosed = true;
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    await().atMost(Duration.ofSeconds(20)).until(() -> c.get("/api/ft/web").json().path("reason").asText()
        .contains("re-protection with a secondary on host3 failed"));
    JsonNode st = awaitState("web", "unprotected");
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.get("reprotections")).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> host3.ftSecondaries.isEmpty());
    assertThat(host2.calls).contains("POST /agent/vms/web/ft/unprotect");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
    long tries = host3.calls.stream().filter(s -> s.equals("PUT /agent/vms/web/ft-secondary")).count();
    Thread.sleep(2_500); // one more look of the unprotected runner (every 2 s)
    assertThat(host3.calls.stream().filter(s -> s.equals("PUT /agent/vms/web/ft-secondary")).count())
        .as("not tried again on the same host within its back-off").isEqualTo(tries);
  }

  private FakeAgent thirdHost() throws Exception {
    FakeAgent host3 = c.hostWithLocalPool("host3");
    host3.ft = CAPABLE;
    host3.primaryPhase = vm -> host2.ftPhase.get(vm);
    host3.heartbeat(c.controller.url());
    return host3;
  }

  private JsonNode awaitReprotections(String vm, int count) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = c.get("/api/ft/" + vm).json();
      return last[0].path("reprotections").size() >= count && "protected".equals(last[0].path("state").asText());
    });
    return last[0];
  }

  @Test
  void watch_secondaryQemuGone_primaryRunsOnUnprotected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");

    host2.ftSecondaries.clear(); // its status now answers 404: the agent lost the secondary

    JsonNode st = awaitState("web", "unprotected");
    assertThat(st.get("phase").asText()).isEqualTo("unprotected");
    assertThat(st.get("reason").asText()).contains("host2");
    assertThat(st.get("failovers")).singleElement().satisfies(f -> {
      assertThat(f.get("from").asText()).isEqualTo("host2");
      assertThat(f.get("to").asText()).isEqualTo("host1");
    });
    assertThat(host1.calls).contains("POST /agent/vms/web/ft/unprotect");
    // still a VM under fault tolerance (a new secondary may come): disable ends it
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(409);
    assertThat(c.delete("/api/ft/web").status()).isEqualTo(204);
  }

  /**
   * The primary's agent and QEMU die: the agent answers nothing (connection refused) and the
   * secondary's agent sees the COLO connection closed and no heartbeat. The controller decides at
   * once (a dead QEMU needs no fencing), the secondary takes over, and one transaction makes host2
   * the owner with the replica as the disk; the old copy goes when host1's agent is back.
   */
  @Test
  void primaryDies_secondaryTakesOver_ownsTheVmOnItsReplica_staleCopyRemovedOnReturn() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));
    awaitState("web", "protected");
    assertThat(c.get("/api/vms/web").json().at("/ft/state").asText()).isEqualTo("protected");
    assertThat(c.get("/api/vms/web").json().at("/ft/secondary").asText()).isEqualTo("host2");
    host1.die();
    host2.coloStreamClosed = true;
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    JsonNode st = awaitState("web", "unprotected");

    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.get("secondary").isNull()).isTrue();
    assertThat(st.get("reason").asText()).contains("failed over from host1").contains("COLO connection closed");
    assertThat(st.get("failovers")).singleElement().satisfies(f -> {
      assertThat(f.get("from").asText()).isEqualTo("host1");
      assertThat(f.get("to").asText()).isEqualTo("host2");
      assertThat(f.get("cause").asText()).contains("primary qemu on host1 is gone");
      assertThat(f.get("detected_ms").asLong()).isBetween(200L, 1000L);
      assertThat(f.get("takeover_ms").asLong()).isBetween(0L, 1000L);
      assertThat(f.get("at").asText()).isNotEmpty();
    });
    assertThat(host2.calls).contains("POST /agent/vms/web/ft-secondary/takeover");
    JsonNode vm = c.get("/api/vms/web").json();
    assertThat(vm.get("host").asText()).isEqualTo("host2");
    assertThat(vm.at("/disks/0/path").asText()).isEqualTo("/pools/host2/local/web-disk0-replica.qcow2");
    assertThat(vm.at("/ft/state").asText()).isEqualTo("unprotected");
    assertThat(vm.at("/ft/secondary").isNull()).isTrue();
    List<String> states = new ArrayList<>();
    for (var e : c.controller.eventsAfter(0)) {
      if (e.kind().equals("ft.state")) states.add(e.data().get("phase").asText());
    }
    assertThat(states).containsSubsequence("protected", "failing_over", "unprotected");
    // still under fault tolerance (unprotected): stop is refused until disable
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(409);

    host1.calls.clear();
    host1.revive();
    await().atMost(Duration.ofSeconds(10)).until(() -> !host1.vms.containsKey("web"));
    assertThat(host1.calls).containsSubsequence("POST /agent/vms/web/kill", "DELETE /agent/vms/web");
    assertThat(host1.volumes.keySet()).as("a lost host's disk images are kept").anyMatch(k -> k.contains("/web-"));

    assertThat(c.delete("/api/ft/web").status()).isEqualTo(204);
    assertThat(host2.calls).contains("POST /agent/vms/web/ft/unprotect");
    assertThat(host1.calls).doesNotContain("DELETE /agent/vms/web/ft-secondary");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  /**
   * A primary host cut off (its agent unreachable, its COLO connection still up, as without a FIN):
   * the takeover waits the guard (longer than the primary's 500 ms self-fence) and needs the
   * checkpoints to have stopped too.
   */
  @Test
  void primaryHostLost_connectionUp_takesOverOnlyAfterTheGuard() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    long t0 = System.nanoTime();
    host1.die();
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    JsonNode st = awaitState("web", "unprotected");

    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(waitedMs).as("the takeover waits for the primary's self-fence").isGreaterThanOrEqualTo(800);
    assertThat(st.at("/failovers/0/cause").asText()).contains("primary host host1 is lost");
    assertThat(st.at("/failovers/0/detected_ms").asLong()).isGreaterThanOrEqualTo(800);
  }

  /**
   * A primary host lost at the default 2000 ms interval (its agent unreachable, its fencer silent,
   * its COLO connection still up as without a FIN): decided once the fencer was silent for 800 ms,
   * not after the checkpoint guard (2.5 s at this interval), so detection stays within about 1 s.
   */
  @Test
  void primaryHostLost_defaultInterval_connectionUp_decidedOnceItsFencerWasSilent800ms() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", null, false));
    awaitState("web", "protected");
    long t0 = System.nanoTime();
    host1.die();
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    JsonNode st = awaitState("web", "unprotected");

    long waitedMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(waitedMs).as("the takeover waits for the primary's self-fence (500 ms)").isGreaterThanOrEqualTo(800);
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.at("/failovers/0/cause").asText()).contains("primary host host1 is lost").contains("fencer");
    assertThat(st.at("/failovers/0/detected_ms").asLong()).as("not the 2.5 s checkpoint guard").isBetween(800L, 1200L);
  }

  /**
   * The primary's agent restarts (unreachable for 3 s, longer than the 2.5 s guard) while its
   * fencer keeps heartbeating and no checkpoint arrives meanwhile (2000 ms interval): no failover; a
   * restarting agent alone never makes a second primary.
   */
  @Test
  void primaryAgentRestarts_itsFencerHeartbeats_noFailover() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 2000, false));
    awaitState("web", "protected");
    host2.checkpointsSilentSince = java.time.Instant.now();
    host1.dieFor(Duration.ofMillis(3000));

    Thread.sleep(3300);
    host2.checkpointsSilentSince = null;

    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(host2.calls).doesNotContain("POST /agent/vms/web/ft-secondary/takeover");
  }

  /**
   * A primary whose fencer the secondary never heard (it could not start) and whose agent restarts
   * (unreachable for 1.3 s, no heartbeats) while its QEMU keeps checkpointing: no failover.
   */
  @Test
  void primaryWithoutFencer_agentRestarts_checkpointsGoOn_noFailover() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    host2.primaryNeverHeard = true;
    host2.primarySilentSince = java.time.Instant.now();
    host1.dieFor(Duration.ofMillis(1300));

    Thread.sleep(1500);
    host2.primarySilentSince = null;

    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(host2.calls).doesNotContain("POST /agent/vms/web/ft-secondary/takeover");
  }

  /** The secondary's agent restarts (unreached for 3.5 s) while the primary's checkpoints complete: it stays protected. */
  @Test
  void secondaryAgentRestarts_checkpointsComplete_staysProtected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    host2.dieFor(Duration.ofMillis(3500));

    Thread.sleep(4000);

    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(host1.calls).doesNotContain("POST /agent/vms/web/ft/unprotect");
  }

  /** The secondary's agent unreached and the primary's checkpoints stalled (its host is gone): dropped. */
  @Test
  void secondaryHostGone_checkpointsStall_primaryRunsOnUnprotected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    host1.ftCheckpointsFrozen = true;
    host2.die();

    JsonNode st = awaitState("web", "unprotected");

    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("reason").asText()).contains("did not answer").contains("no checkpoint completed");
  }

  /** The secondary hears no primary but the controller reaches the primary, which runs protected: nothing happens. */
  @Test
  void secondaryHearsNoPrimary_controllerReachesIt_staysProtected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();

    Thread.sleep(1000);

    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(host2.calls).doesNotContain("POST /agent/vms/web/ft-secondary/takeover");
  }

  /** Both agents alive, neither hears the other (the replication path is cut): the primary, which the controller reaches, wins. */
  @Test
  void pathBetweenThemCut_primaryRunsOnUnprotected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 100, false));
    awaitState("web", "protected");
    host2.primarySilentSince = java.time.Instant.now();
    host1.secondarySilentSince = java.time.Instant.now();

    JsonNode st = awaitState("web", "unprotected");

    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("reason").asText()).contains("path between host1 and host2 is cut");
    assertThat(host2.calls).doesNotContain("POST /agent/vms/web/ft-secondary/takeover");
    assertThat(host1.calls).contains("POST /agent/vms/web/ft/unprotect");
  }

  /** A primary found fenced (it lost the secondary and the controller for a moment) is replaced. */
  @Test
  void primaryFencedItself_secondaryTakesOver() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));
    awaitState("web", "protected");
    host1.ftFence("web");

    JsonNode st = awaitState("web", "unprotected");

    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.at("/failovers/0/cause").asText()).contains("fenced its guest");
  }

  @Test
  void plannedFailover_fencesThePrimaryFirst_thenTheSecondaryOwnsTheVm() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));
    awaitState("web", "protected");
    host1.calls.clear();
    host2.calls.clear();

    TestCluster.Reply r = c.post("/api/ft/web/failover", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("state").asText()).isEqualTo("unprotected");
    assertThat(r.json().get("primary").asText()).isEqualTo("host2");
    assertThat(r.json().at("/failovers/0/cause").asText()).contains("planned");
    assertThat(r.json().at("/failovers/0/detected_ms").asLong()).isZero();
    assertThat(host1.ftFenced).containsKey("web");
    assertThat(host2.calls).contains("POST /agent/vms/web/ft-secondary/takeover");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
    // the old primary's copy goes with its disks (a planned switch leaves nothing behind)
    await().atMost(Duration.ofSeconds(10)).until(() -> !host1.vms.containsKey("web"));
    assertThat(host1.volumes.keySet()).noneMatch(k -> k.contains("/web-"));
    assertThat(host1.calls).containsSubsequence("POST /agent/vms/web/ft/fence", "POST /agent/vms/web/kill",
        "DELETE /agent/vms/web");
    // only a protected VM fails over
    TestCluster.Reply again = c.post("/api/ft/web/failover", null);
    assertThat(again.status()).isEqualTo(409);
    assertThat(again.json().get("detail").asText()).contains("only a protected vm can fail over");
  }

  @Test
  void plannedFailover_primaryCannotBeFenced_staysProtected() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));
    awaitState("web", "protected");
    host1.failOn = "POST /agent/vms/web/ft/fence";

    TestCluster.Reply r = c.post("/api/ft/web/failover", null);

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("stays protected on host1").contains("could not be fenced");
    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("protected");
    assertThat(host2.calls).doesNotContain("POST /agent/vms/web/ft-secondary/takeover");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  /** The controller dies while the secondary's takeover is in flight; the new one finishes it from the phase. */
  @Test
  void restart_midFailover_theNewControllerFinishesIt() throws Exception {
    c.post("/api/ft", new FtEnableRequest("web", "host2", 500, false));
    awaitState("web", "protected");
    host2.pauseGate = new java.util.concurrent.CountDownLatch(1);
    host2.pauseOn = "POST /agent/vms/web/ft-secondary/takeover";
    host1.die();
    host2.coloStreamClosed = true;
    host2.primarySilentSince = java.time.Instant.now();
    host2.checkpointsSilentSince = java.time.Instant.now();
    await().atMost(Duration.ofSeconds(10)).until(() -> host2.calls.contains("POST /agent/vms/web/ft-secondary/takeover"));
    assertThat(c.get("/api/ft/web").json().get("state").asText()).isEqualTo("failing_over");

    c.restart();
    host2.pauseGate.countDown();
    for (FakeAgent a : List.of(host2)) a.heartbeat(c.controller.url());

    JsonNode st = awaitState("web", "unprotected");
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.get("failovers")).hasSize(1);
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  private void refused(FtEnableRequest r, int status, String field, String detail) throws Exception {
    TestCluster.Reply reply = c.post("/api/ft", r);
    assertThat(reply.status()).as(r + ": " + reply.body()).isEqualTo(status);
    assertThat(reply.field()).as(r + ": " + reply.body()).isEqualTo(field);
    assertThat(reply.json().get("detail").asText()).as(r.toString()).contains(detail);
  }
}
