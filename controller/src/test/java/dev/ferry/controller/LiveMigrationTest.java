package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.Problem;
import dev.ferry.api.VmCreateRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live migration state machine against two scripted agents: the exact phases, the owner
 * switch, cancel before and after the point of no return, refusals, convergence policy, faults
 * and controller restarts, with the end state checked on both hosts.
 */
class LiveMigrationTest {

  private static final long MIB = 1L << 20;

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    host2 = c.hostWithLocalPool("host2");
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/shared/vmlinuz", null, null, null,
        List.of(new DiskRequest(GIB, "shared", null)), true)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("db", "host1", GIB, 1, "/pools/shared/vmlinuz", null, null, null,
        List.of(new DiskRequest(GIB, "local", null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
    host1.script.addAll(converging());
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  /** Three pre-copy passes, each leaving less, then QEMU's completed. */
  private static List<MigrationStats> converging() {
    return List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 400 * MIB, 700 * MIB, 20 * MIB, 1, 2000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, GIB, 100 * MIB, 20 * MIB, 2, 900L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, GIB + 90 * MIB, 10 * MIB, 20 * MIB, 3, 90L),
        stats(OutgoingPhase.SWITCHOVER, QemuMigrationStatus.DEVICE, GIB + 100 * MIB, 0, 20 * MIB, 3, 10L),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB + 110 * MIB, 0, 0, 4, 0L));
  }

  /** A guest that dirties 300 MiB/s against a 100 MB/s stream: remaining never falls. */
  private static List<MigrationStats> stuck() {
    List<MigrationStats> list = new ArrayList<>();
    list.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 600 * MIB, 400 * MIB, 300 * MIB, 1, 4000L));
    for (int pass = 2; pass < 40; pass++) {
      list.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 600 * MIB + pass * 100 * MIB, 400 * MIB, 300 * MIB, pass, 4000L));
    }
    return list;
  }

  private static LiveMigrationRequest live(String vm, String to) {
    return new LiveMigrationRequest(vm, to, null, null, null, null, null, null, null, null, null);
  }

  @Test
  void live_sharedStorage_goesThroughEveryPhaseInOrderAndMovesTheOwner() throws Exception {
    JsonNode started = start(live("web", "host2"));
    assertThat(started.get("kind").asText()).isEqualTo("live");
    String id = started.get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "switchover", "resuming_target",
        "transferring", "done");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "POST /agent/vms/web/incoming/finish");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing", "POST /agent/vms/web/outgoing/complete",
        "delete_source_images=false");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
    assertThat(done.get("downtime_ms").asLong()).isEqualTo(42);
    assertThat(done.get("observed_pause_ms").asLong()).isEqualTo(55);
    assertThat(done.get("passes").asInt()).isEqualTo(4);
    assertThat(done.get("transferred_bytes").asLong()).isEqualTo(GIB + 110 * MIB);
    assertThat(done.get("postcopy").asBoolean()).isFalse();
    assertThat(done.get("total_ms").asLong()).isPositive();
    assertThat(done.get("reason").isNull()).isTrue();

    var in = host2.incoming.get("web");
    assertThat(in.definition().machineType()).as("the source's resolved machine type").isEqualTo("pc-q35-8.2");
    assertThat(in.memoryGivenBytes()).isEqualTo(GIB);
    // unasked, post-copy is armed only towards a host that reported it can run it; this one did not
    assertThat(in.capabilities()).doesNotContainKey("postcopy-ram").doesNotContainKey("auto-converge");
    assertThat(in.copyStorage()).isEmpty();
    var out = host1.outgoing.get("web");
    assertThat(out.migrationUri()).isEqualTo("tcp:127.0.0.1:49152");
    assertThat(out.nbd()).isNull();
    // QEMU starts at a sixth of the 300 ms allowed; the convergence watch raises it when passes stop shrinking
    assertThat(out.parameters()).containsEntry("downtime-limit", 50).containsEntry("max-bandwidth", 10L << 30);
    assertThat(in.resumeOnArrival()).as("the target runs the guest on its own completed event").isTrue();
  }

  /** The owner switch: the source owns the vm while it migrates, the target from TRANSFERRING on, never both. */
  @Test
  void live_ownerIsTheSourceUntilTransferringAndTheTargetFromThenOn() throws Exception {
    host1.holdAt = 1;
    host1.completeGate = new java.util.concurrent.CountDownLatch(1);
    String id = start(live("web", "host2")).get("id").asText();
    awaitPhase(id, "migrating");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");

    host1.holdAt = Integer.MAX_VALUE;
    awaitPhase(id, "transferring");
    await().atMost(Duration.ofSeconds(5)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing/complete"));
    assertThat(c.get("/api/vms/web").json().get("host").asText()).as("owner before the source quits").isEqualTo("host2");
    host1.completeGate.countDown();

    assertThat(c.awaitFinal(id, Duration.ofSeconds(30)).get("status").asText()).isEqualTo("succeeded");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  @Test
  void live_copyStorage_sendsTheDisksAndRepointsThemOnTheTarget() throws Exception {
    var r = new LiveMigrationRequest("db", "host2", 500L, 200.0, "never", true, 4, "zstd", true, null, 60_000L);
    String id = start(r).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(host2.incoming.get("db").copyStorage()).singleElement()
        .satisfies(d -> assertThat(d.pool()).isEqualTo("local"));
    assertThat(host1.outgoing.get("db").nbd().exports()).containsEntry("disk0", "disk0");
    assertThat(host1.outgoing.get("db").capabilities()).containsEntry("multifd", true).containsEntry("auto-converge", true)
        .doesNotContainKey("postcopy-ram");
    assertThat(host1.outgoing.get("db").parameters()).containsEntry("multifd-channels", 4)
        .containsEntry("multifd-compression", "zstd").containsEntry("max-bandwidth", 200 * (int) MIB)
        .containsEntry("downtime-limit", 83);
    assertThat(host1.changes()).contains("delete_source_images=true");
    JsonNode disk = c.get("/api/vms/db").json().at("/disks/0");
    assertThat(disk.get("path").asText()).isEqualTo("/pools/host2/local/db-disk0.qcow2");
    assertThat(c.get("/api/vms/db").json().get("host").asText()).isEqualTo("host2");
    JsonNode plan = done.get("plan");
    assertThat(plan.get("max_downtime_ms").asLong()).isEqualTo(500);
    assertThat(plan.get("bandwidth_mib_s").asDouble()).isEqualTo(200.0);
    assertThat(plan.get("postcopy").asText()).isEqualTo("never");
    assertThat(plan.get("postcopy_armed").asBoolean()).isFalse();
    assertThat(plan.get("multifd").asInt()).isEqualTo(4);
    assertThat(plan.get("compress").asText()).isEqualTo("zstd");
    assertThat(plan.get("timeout_ms").asLong()).isEqualTo(60_000);
    assertThat(plan.get("copies")).singleElement().satisfies(copy -> {
      assertThat(copy.get("disk").asText()).isEqualTo("disk0");
      assertThat(copy.get("pool").asText()).isEqualTo("local");
      assertThat(copy.get("size_bytes").asLong()).as("the size the target image is created with")
          .isEqualTo(host2.incoming.get("db").copyStorage().getFirst().virtualSize());
    });
  }

  @Test
  void live_restartedPastThePointOfNoReturn_finishesWithThePlanItStoredWithDefaultsApplied() throws Exception {
    host2.failOn = "POST /agent/vms/db/incoming/finish";
    var r = new LiveMigrationRequest("db", "host2", null, null, null, null, null, null, true, null, null);
    String id = start(r).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/migrations/" + id).json().get("phase").asText()
        .equals("resuming_target"));
    JsonNode before = c.get("/api/migrations/" + id).json().get("plan");
    assertThat(before.get("max_downtime_ms").asLong()).as("the default, applied once at preflight").isEqualTo(300);
    assertThat(before.get("postcopy").asText()).isEqualTo("never");
    assertThat(before.get("copies")).singleElement().satisfies(copy -> assertThat(copy.get("pool").asText())
        .isEqualTo("local"));

    c.restart();
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
    host2.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("plan")).as("the plan is never re-derived").isEqualTo(before);
    assertThat(c.get("/api/vms/db").json().at("/disks/0/path").asText()).as("the disk lands in the planned pool")
        .isEqualTo("/pools/host2/local/db-disk0.qcow2");
  }

  @Test
  void live_cancelledBeforeThePointOfNoReturn_rollsBackAndTheVmStaysOnTheSource() throws Exception {
    host1.holdAt = 0;
    String id = start(live("web", "host2")).get("id").asText();
    awaitPhase(id, "migrating");

    assertThat(c.post("/api/migrations/" + id + "/cancel", null).status()).isEqualTo(200);
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).isEqualTo("cancelled");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing", "POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
    assertThat(c.post("/api/migrations/" + id + "/cancel", null).status()).isEqualTo(409);
  }

  @Test
  void cancel_afterThePointOfNoReturn_is409WithTheReasonAndTheMigrationFinishes() throws Exception {
    String id = start(live("web", "host2")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> {
      String p = c.get("/api/migrations/" + id).json().get("phase").asText();
      return p.equals("resuming_target") || p.equals("transferring") || p.equals("done");
    });

    TestCluster.Reply r = c.post("/api/migrations/" + id + "/cancel", null);

    assertThat(r.status()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).containsAnyOf("point of no return", "already succeeded");
    assertThat(c.awaitFinal(id, Duration.ofSeconds(30)).get("status").asText()).isEqualTo("succeeded");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  @Test
  void live_badRequests_areRefusedNamingTheFieldAndChangeNothing() throws Exception {
    assertRefused(live("web", "host1"), 409, "to");
    assertRefused(live("web", "host9"), 404, "to");
    assertRefused(live("ghost", "host2"), 404, "vm");
    assertRefused(live("db", "host2"), 409, "copy_storage");
    assertRefused(new LiveMigrationRequest("db", "host2", null, null, null, null, null, null, true, "nope", null), 404,
        "target_pool");
    assertRefused(new LiveMigrationRequest("web", "host2", 0L, null, null, null, null, null, null, null, null), 400,
        "max_downtime_ms");
    assertRefused(new LiveMigrationRequest("web", "host2", null, -1.0, null, null, null, null, null, null, null), 400,
        "bandwidth_mib_s");
    assertRefused(new LiveMigrationRequest("web", "host2", null, null, "sometimes", null, null, null, null, null, null), 400,
        "postcopy");
    assertRefused(new LiveMigrationRequest("web", "host2", null, null, null, null, 0, null, null, null, null), 400,
        "multifd");
    assertRefused(new LiveMigrationRequest("web", "host2", null, null, null, null, null, "zstd", null, null, null), 400,
        "compress");
    assertRefused(new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, "local", null), 400,
        "target_pool");
    assertRefused(new LiveMigrationRequest("web", "host2", null, null, null, null, null, null, null, null, -5L), 400,
        "timeout_ms");
    assertThat(c.post("/api/vms/web/stop", null).status()).isEqualTo(200);
    assertRefused(live("web", "host2"), 409, "vm");
    assertThat(c.get("/api/migrations").json()).isEmpty();
    assertThat(host1.changes()).first().isEqualTo("POST /agent/vms/web/stop");
    assertThat(host1.changes()).noneMatch(x -> x.contains("outgoing"));
    assertThat(host2.changes()).isEmpty();
  }

  @Test
  void live_notEnoughMemoryOnTheTarget_is409NamingToAndChangesNothing() throws Exception {
    FakeAgent small = c.agent("small", GIB / 2);
    small.calls.clear();

    TestCluster.Reply reply = c.post("/api/migrations/live", live("web", "small"));

    assertThat(reply.status()).as(reply.body()).isEqualTo(409);
    assertThat(reply.field()).isEqualTo("to");
    assertThat(reply.json().get("detail").asText()).contains("needs 1 GiB");
    assertThat(c.get("/api/migrations").json()).isEmpty();
    assertThat(small.changes()).isEmpty();
  }

  @Test
  void live_secondMigrationOfTheSameVm_is409() throws Exception {
    host1.holdAt = 0;
    start(live("web", "host2"));

    assertRefused(live("web", "host2"), 409, "vm");
    assertThat(c.post("/api/vms/web/stop", null).status()).as("the vm belongs to its migration").isEqualTo(409);
  }

  @Test
  void live_targetRefusesTheMachineType_relaysItsProblemAndRollsBack() throws Exception {
    host2.refuseIncoming = Problem.badInput("definition.machine_type", "pc-q35-8.2",
        "the source's resolved machine type, one this host's qemu 7.2 has (e.g. pc-q35-7.2)");

    TestCluster.Reply reply = c.post("/api/migrations/live", live("web", "host2"));

    assertThat(reply.status()).as(reply.body()).isEqualTo(400);
    assertThat(reply.field()).isEqualTo("definition.machine_type");
    JsonNode m = c.get("/api/migrations").json().get(0);
    await().atMost(Duration.ofSeconds(5)).until(() -> !c.get("/api/migrations").json().get(0).get("status").asText().equals("running"));
    assertThat(c.get("/api/migrations/" + m.get("id").asText()).json().get("phase").asText()).isEqualTo("rolled_back");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void live_notConverging_switchesToPostcopyUnderAuto() throws Exception {
    host1.script.clear();
    host1.script.addAll(stuck());
    host1.postcopyScript.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1600 * MIB, 200 * MIB, 300 * MIB, 6, null),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 1800 * MIB, 0, 0, 6, 0L)));
    var r = new LiveMigrationRequest("web", "host2", null, null, "auto", null, null, null, null, null, null);
    String id = start(r).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("postcopy").asBoolean()).isTrue();
    assertThat(host1.changes()).contains("POST /agent/vms/web/outgoing/postcopy");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  @Test
  void live_notConverging_underNever_isCancelledWithTheNumbers() throws Exception {
    host1.script.clear();
    host1.script.addAll(stuck());
    var r = new LiveMigrationRequest("web", "host2", null, null, "never", null, null, null, null, null, null);
    String id = start(r).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("does not converge", "300 MiB/s", "95.4 MiB/s", "4000 ms > limit 300 ms",
        "--postcopy auto", "--max-downtime");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/postcopy")
        .contains("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).contains("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void live_timeout_rollsBackWithAClearReason() throws Exception {
    host1.holdAt = 0;
    var r = new LiveMigrationRequest("web", "host2", null, null, "never", null, null, null, null, null, 1500L);
    String id = start(r).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("timed out", "--timeout 1500 ms", "keeps running on host 'host1'");
    assertThat(host2.changes()).contains("DELETE /agent/vms/web/incoming");
  }

  @Test
  void live_targetQemuDiesMidMigration_rollsBackAndTheVmRunsOnTheSource() throws Exception {
    host1.holdAt = 0;
    String id = start(live("web", "host2")).get("id").asText();
    awaitPhase(id, "migrating");

    host2.targetQemu = QemuMigrationStatus.GONE;
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("target qemu on host 'host2' is gone", "qemu exited");
    assertThat(host1.changes()).contains("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).contains("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void live_sourceReportsFailed_rollsBackWithTheCause() throws Exception {
    host1.script.clear();
    host1.script.addAll(List.of(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 100 * MIB, 900 * MIB, 0, 1, null),
        stats(OutgoingPhase.FAILED, QemuMigrationStatus.FAILED, 200 * MIB, 800 * MIB, 0, 1, null)));
    String id = start(live("web", "host2")).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("connection reset by the target");
    assertThat(host2.changes()).contains("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void controllerRestart_inMigrating_rollsBackAndTheVmStaysOnTheSource() throws Exception {
    host1.holdAt = 0;
    String id = start(live("web", "host2")).get("id").asText();
    awaitPhase(id, "migrating");

    c.restart();
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("controller restarted in phase migrating");
    assertThat(host1.changes()).contains("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).contains("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  void controllerRestart_inTransferring_finishesWithTheVmOnTheTarget() throws Exception {
    String id = start(live("web", "host2")).get("id").asText();
    c.awaitFinal(id, Duration.ofSeconds(30));
    // replay: put the finished migration back to transferring, the owner back to the source, as if
    // the controller died right after recording the phase
    c.controller.close();
    var store = dev.ferry.controller.store.Store.open(c.config.dataDir(), c.config.dbUrl(), c.config.dbUser(),
        c.config.dbPassword());
    try {
      var row = store.migrations().find(id).orElseThrow();
      var view = dev.ferry.api.Json.mapper().readTree(row.record());
      ((com.fasterxml.jackson.databind.node.ObjectNode) view).put("status", "running").put("phase", "transferring")
          .putNull("ended_at");
      store.migrations().advance(id, "done", "transferring", dev.ferry.api.MigrationStatus.RUNNING, view.toString(),
          java.time.Instant.now());
      store.vms().transfer("web", "host1", List.of());
    } finally {
      store.close();
    }
    host1.calls.clear();
    host2.calls.clear();
    c.controller = Controller.start(c.config);
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).isEqualTo("succeeded");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing/complete", "delete_source_images=false");
    assertThat(host2.changes()).isEmpty();
  }

  private void assertRefused(LiveMigrationRequest r, int status, String field) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/live", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.field()).as(reply.body()).isEqualTo(field);
  }

  private JsonNode start(LiveMigrationRequest r) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/live", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return reply.json();
  }

  private void awaitPhase(String id, String phase) {
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(phase));
  }


}
