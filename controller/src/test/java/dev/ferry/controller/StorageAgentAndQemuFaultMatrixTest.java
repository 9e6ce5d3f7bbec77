package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent-death and QEMU-death columns of the storage fault matrix (one host: the agent and
 * QEMU are the VM's own). An agent restart is ridden out in every phase; a QEMU that dies after
 * the pivot leaves the VM on its new image, rolled forward, and before it on its old one.
 */
class StorageAgentAndQemuFaultMatrixTest {

  static final String DISK = "/agent/vms/web/mirrors/disk0";
  static final String CANCEL = "POST " + DISK + "/cancel";

  @TempDir Path dir;
  TestCluster c;
  FakeAgent host1;

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(StorageAgentAndQemuFaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @BeforeEach
  void scene() throws Exception {
    c = new TestCluster(dir);
    host1 = c.hostWithLocalPool("host1");
    assertThat(c.post("/api/pools", new PoolCreateRequest("fast", "host1", "/pools/host1/fast", false)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
        null, null, List.of(new DiskRequest(GIB, null, null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host1.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  @Test
  void agentDies_whileMirroring_ridesItOutAndTheSameMirrorFinishes() throws Exception {
    host1.holdReady = true;
    String id = start();
    awaitPhase(id, "mirroring");

    LiveFaultScene.outage(host1);
    host1.holdReady = false;

    assertRolledForward(id, c.awaitFinal(id, Duration.ofSeconds(40)));
    assertThat(host1.changes().stream().filter(x -> x.startsWith("PUT")).toList()).as("the mirror is not started twice")
        .containsExactly("PUT " + DISK);
    record("mirroring", Fault.SOURCE_AGENT, "agentDies_whileMirroring_ridesItOutAndTheSameMirrorFinishes",
        "the agent's restart ridden out, the mirror (running on in QEMU) watched again, not started twice; the VM on the"
            + " new pool");
  }

  @Test
  void agentDies_whilePivoting_rollsForward() throws Exception {
    agentDiesWhileHeldAt("pivoting", "pivot");
    record("pivoting", Fault.SOURCE_AGENT, "agentDies_whilePivoting_rollsForward",
        "stuck while the agent is down, the pivot retried until it answered: rolled forward, the VM on the new pool,"
            + " nothing cancelled");
  }

  @Test
  void agentDies_whileVerifying_rollsForward() throws Exception {
    agentDiesWhileHeldAt("verifying", "verify");
    record("verifying", Fault.SOURCE_AGENT, "agentDies_whileVerifying_rollsForward",
        "stuck while the agent is down, the verification retried until it answered: rolled forward, the VM on the new"
            + " pool, nothing cancelled");
  }

  @Test
  void agentDies_whileReleasing_rollsForward() throws Exception {
    agentDiesWhileHeldAt("releasing", "release");
    record("releasing", Fault.SOURCE_AGENT, "agentDies_whileReleasing_rollsForward",
        "stuck while the agent is down, the release retried until it answered: rolled forward, the VM on the new pool");
  }

  @Test
  void agentDies_whileCancelling_theRollbackWaitsAndFinishes() throws Exception {
    host1.failMirror = "injected copy failure";
    host1.failOn = CANCEL;
    String id = start();
    awaitPhase(id, "cancelling");

    host1.die();
    host1.failOn = null;
    Thread.sleep(LiveFaultScene.OUTAGE);
    host1.revive();

    assertRolledBack(c.awaitFinal(id, Duration.ofSeconds(40)));
    record("cancelling", Fault.SOURCE_AGENT, "agentDies_whileCancelling_theRollbackWaitsAndFinishes",
        "the rollback waits for the agent, then cancels the mirror: the VM on its old disk, never pivoted");
  }

  /**
   * The VM's QEMU dies after the pivot, before the verification: the agent cannot verify any more
   * (the record of the writes since the pivot died with QEMU) and answers 409. Before, the
   * controller retried that refusal forever: the move stayed running and stuck, the VM locked,
   * although it was already on its new image. Now it rolls forward unverified, says so, and keeps
   * the old image.
   */
  @Test
  void qemuDies_whileVerifying_rollsForwardUnverifiedKeepingTheOldImage() throws Exception {
    host1.failOn = "POST " + DISK + "/verify";
    String id = start();
    awaitPhase(id, "verifying");

    host1.qemuDies("web");
    host1.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(20));
    assertRolledForward(id, done);
    assertThat(done.get("verified").isNull()).as(done.toString()).isTrue();
    assertThat(done.get("reason").asText()).contains("disk disk0 not verified", "writes since then are unknown",
        "the vm runs on the new image and the old image is kept");
    assertThat(host1.changes()).as("the old image kept").contains("keep_source=true").doesNotContain("keep_source=false");
    record("verifying", Fault.SOURCE_QEMU, "qemuDies_whileVerifying_rollsForwardUnverifiedKeepingTheOldImage",
        "rolled forward unverified (the writes since the pivot died with QEMU), saying so; the VM (crashed) on the new"
            + " pool, the old image kept");
  }

  @Test
  void qemuDies_whileReleasing_rollsForward() throws Exception {
    host1.failOn = "POST " + DISK + "/release";
    String id = start();
    awaitPhase(id, "releasing");

    host1.qemuDies("web");
    host1.failOn = null;

    assertRolledForward(id, c.awaitFinal(id, Duration.ofSeconds(40)));
    record("releasing", Fault.SOURCE_QEMU, "qemuDies_whileReleasing_rollsForward",
        "rolled forward: the old image let go without its QEMU; the VM (crashed) on the new pool, nothing cancelled");
  }

  @Test
  void qemuDies_whileCancelling_theRollbackEnds() throws Exception {
    host1.failMirror = "injected copy failure";
    host1.failOn = CANCEL;
    String id = start();
    awaitPhase(id, "cancelling");

    host1.qemuDies("web");
    host1.failOn = null;

    assertRolledBack(c.awaitFinal(id, Duration.ofSeconds(40)));
    record("cancelling", Fault.SOURCE_QEMU, "qemuDies_whileCancelling_theRollbackEnds",
        "rolled back: the new image dropped; the VM (crashed) on its old disk, never pivoted");
  }

  /** The step of {@code phase} answers 500 until the agent dies; it comes back after an outage. */
  private void agentDiesWhileHeldAt(String phase, String step) throws Exception {
    host1.failOn = "POST " + DISK + "/" + step;
    String id = start();
    awaitPhase(id, phase);

    host1.die();
    host1.failOn = null;
    Thread.sleep(LiveFaultScene.OUTAGE);
    host1.revive();

    assertRolledForward(id, c.awaitFinal(id, Duration.ofSeconds(40)));
  }

  private String start() throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/storage", new StorageMigrationRequest("web", "fast", null, null, null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  private void awaitPhase(String id, String phase) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(phase));
  }

  private void assertRolledForward(String id, JsonNode done) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(c.phases(id)).doesNotContain("cancelling", "rolled_back").endsWith("releasing", "done");
    assertThat(host1.changes()).as("the new image is never cancelled").doesNotContain(CANCEL);
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("fast");
    assertOnTheHostWithoutLock(done);
  }

  private void assertRolledBack(JsonNode done) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(host1.changes()).as("never pivoted").doesNotContain("POST " + DISK + "/pivot").contains(CANCEL);
    assertThat(c.get("/api/vms/web").json().at("/disks/0/pool").asText()).isEqualTo("local");
    assertOnTheHostWithoutLock(done);
  }

  private void assertOnTheHostWithoutLock(JsonNode done) throws Exception {
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
    assertThat(host1.vms).containsKey("web");
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);
  }

  private static void record(String phase, Fault fault, String test, String outcome) {
    new FaultCell("storage", phase, fault, "StorageAgentAndQemuFaultMatrixTest." + test, Level.SCRIPTED, outcome).record();
  }
}
