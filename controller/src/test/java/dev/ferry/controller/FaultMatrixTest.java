package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The controller-death column of the fault matrix (issue 9 part B), for every live phase a fault
 * can land in: a real controller drives the migration against two scripted agents over real HTTP,
 * the fakes hold it in the phase, the controller is closed and a new one started on the same
 * store (the real recovery path, no row edited), and the end state is checked on both sides: the
 * VM on exactly one host in the inventory and per the agents, no lock left, never rolled back past
 * the point of no return, nothing deleted on the side that holds the guest. Each passing cell is
 * recorded; after the class, docs/faults.md is written from the records (see {@link FaultsDoc}).
 * Storage phases are in {@link StorageFaultMatrixTest}.
 */
class FaultMatrixTest {

  private static final long MIB = 1L << 20;
  static final String FINISH = "POST /agent/vms/web/incoming/finish";
  static final String COMPLETE = "POST /agent/vms/web/outgoing/complete";

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;
  FakeAgent host2;

  /** Where each scenario holds the migration, and which side of the point of no return that is. */
  enum LiveCell {
    PREPARING_TARGET(false), MIGRATING(false), SWITCHOVER(false), POSTCOPY(true), RESUMING_TARGET(true),
    TRANSFERRING(true), CANCELLING(false);

    final boolean past;

    LiveCell(boolean past) {
      this.past = past;
    }

    String phase() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(FaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @AfterEach
  void stop() {
    if (c != null) c.close();
  }

  @ParameterizedTest(name = "controller death in live {0}")
  @EnumSource(LiveCell.class)
  void controllerDeath_inEveryLivePhase_recoversToOneHostWithoutLock(LiveCell cell) throws Exception {
    scene();
    CountDownLatch gate = new CountDownLatch(1);
    String postcopy = "never";
    switch (cell) {
      case PREPARING_TARGET -> {
        host2.pauseOn = "PUT /agent/vms/web/incoming";
        host2.pauseGate = gate;
      }
      case MIGRATING -> host1.holdAt = 0;
      case SWITCHOVER -> host1.holdAt = 2;
      case POSTCOPY -> {
        postcopy = "always";
        host1.script.clear();
        for (int pass = 1; pass < 40; pass++) {
          host1.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 100 * MIB, 600 * MIB, 300 * MIB, pass, 4000L));
        }
        host1.postcopyScript.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1200 * MIB, 200 * MIB, 20 * MIB, 3, null));
      }
      case RESUMING_TARGET -> host2.failOn = FINISH;
      case TRANSFERRING -> host1.failOn = COMPLETE;
      case CANCELLING -> host1.holdAt = 0;
    }
    // the create answers once the target is prepared, so it is sent aside while the target is held
    String mode = postcopy;
    var created = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return start(mode);
      } catch (Exception e) {
        return null;
      }
    });
    String id = cell == LiveCell.PREPARING_TARGET ? awaitRunningMigration() : created.get(20, TimeUnit.SECONDS);
    if (cell == LiveCell.CANCELLING) {
      await().atMost(Duration.ofSeconds(10)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing"));
      host1.failOn = "GET /agent/vms/web/outgoing";
    }
    awaitPhase(id, cell.phase());

    c.restart();
    gate.countDown();
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
    host1.failOn = null;
    host2.failOn = null;
    if (cell == LiveCell.POSTCOPY) host1.postcopyScript.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 1400 * MIB, 0, 0, 3, 0L));

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(40));
    List<String> phases = c.phases(id);
    assertThat(phases).as("the migration reached the phase").contains(cell.phase());
    if (cell.past) {
      assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
      assertThat(phases).as("never rolled back past the point of no return").doesNotContain("cancelling", "rolled_back");
      assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/cancel");
      assertThat(host2.changes()).as("the target holds the guest").doesNotContain("DELETE /agent/vms/web/incoming");
      assertOnExactlyOneHost("host2");
    } else {
      assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
      assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
      assertThat(host2.changes()).as("the target never ran the guest").doesNotContain(FINISH);
      assertThat(host1.changes()).as("the source keeps its guest").doesNotContain(COMPLETE);
      assertOnExactlyOneHost("host1");
    }
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);

    new FaultCell("live", cell.phase(), Fault.CONTROLLER, "FaultMatrixTest.controllerDeath_inEveryLivePhase[" + cell.phase() + "]",
        Level.SCRIPTED, cell.past
            ? "rolled forward after the restart: succeeded, the VM on the target only, the source never cancelled"
            : "rolled back after the restart: the VM on the source only, the target never resumed").record();
  }

  /**
   * Full disk as the controller sees it: the target refuses to receive with the 409 the real agent
   * gives for a pool without room. The create relays it, and the migration rolls back with the
   * agent's words; the VM stays on the source only and nothing is left locked.
   */
  @org.junit.jupiter.api.Test
  void fullTargetPool_whilePreparing_isRelayedAndRolledBackOnTheSource() throws Exception {
    scene();
    host2.refuseIncoming = dev.ferry.api.Problem.of(409, "insufficient resources",
        "pool local (/pools/host2/local) has 1048576 bytes free, needs 1073741824 for disk0 (No space left on device)");

    TestCluster.Reply r = c.post("/api/migrations/live",
        new LiveMigrationRequest("web", "host2", null, null, "never", null, null, null, null, null, null));

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.body()).contains("No space left on device");
    JsonNode m = c.get("/api/migrations").json().findParents("status").getFirst();
    JsonNode done = c.awaitFinal(m.get("id").asText(), Duration.ofSeconds(20));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("refused to receive", "No space left on device");
    assertThat(host1.changes()).as("the source was never asked to send").isEmpty();
    assertOnExactlyOneHost("host1");
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);

    new FaultCell("live", "preparing_target", Fault.DISK_FULL,
        "FaultMatrixTest.fullTargetPool_whilePreparing_isRelayedAndRolledBackOnTheSource", Level.SCRIPTED,
        "refused with the agent's ENOSPC reason, rolled back: the VM on the source only, the source never asked to send")
        .record();
  }

  private void assertOnExactlyOneHost(String owner) throws Exception {
    assertThat(c.get("/api/vms/web").json().get("host").asText()).as("inventory").isEqualTo(owner);
    FakeAgent other = owner.equals("host1") ? host2 : host1;
    FakeAgent holder = owner.equals("host1") ? host1 : host2;
    assertThat(holder.vms).as("defined on " + owner).containsKey("web");
    assertThat(other.vms).as("not on the other host").doesNotContainKey("web");
  }

  private void scene() throws Exception {
    c = new TestCluster(dir);
    List<FakeAgent> hosts = c.twoHostsWithWebOnShared();
    host1 = hosts.get(0);
    host2 = hosts.get(1);
    host1.script.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 400 * MIB, 700 * MIB, 20 * MIB, 1, 2000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, GIB, 100 * MIB, 20 * MIB, 2, 900L),
        stats(OutgoingPhase.SWITCHOVER, QemuMigrationStatus.DEVICE, GIB + 100 * MIB, 0, 20 * MIB, 3, 10L),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB + 110 * MIB, 0, 0, 4, 0L)));
    host1.calls.clear();
    host2.calls.clear();
  }

  private String start(String postcopy) throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/live",
        new LiveMigrationRequest("web", "host2", null, null, postcopy, null, null, null, null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  /** The id of the one running migration, once the controller lists it. */
  private String awaitRunningMigration() {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25)).until(() -> c.get("/api/migrations").json()
        .findParents("status").stream().anyMatch(m -> m.get("status").asText().equals("running")));
    try {
      return c.get("/api/migrations").json().findParents("status").stream()
          .filter(m -> m.get("status").asText().equals("running")).findFirst().orElseThrow().get("id").asText();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private void awaitPhase(String id, String phase) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(phase));
  }
}
