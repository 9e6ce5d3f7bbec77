package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The scene of the live fault matrix classes: a real controller, host1 running vm {@code web}
 * and host2 to receive it, both scripted agents over real HTTP, with the source's pre-copy
 * scripted to converge in four answers. What every cell then checks about both hosts is here, so
 * each test reads as fault and outcome only.
 */
final class LiveFaultScene implements AutoCloseable {

  static final long MIB = 1L << 20;
  static final String INCOMING = "PUT /agent/vms/web/incoming";
  static final String FINISH = "POST /agent/vms/web/incoming/finish";
  static final String DELETE_INCOMING = "DELETE /agent/vms/web/incoming";
  static final String OUTGOING = "POST /agent/vms/web/outgoing";
  static final String CANCEL = "POST /agent/vms/web/outgoing/cancel";
  static final String COMPLETE = "POST /agent/vms/web/outgoing/complete";
  static final String RECLAIM = "POST /agent/vms/web/outgoing/reclaim";
  static final String STATS = "GET /agent/vms/web/outgoing";
  /** long enough for several of the runner's polls to be refused, short of every deadline */
  static final Duration OUTAGE = Duration.ofMillis(1500);

  final TestCluster c;
  final FakeAgent host1;
  final FakeAgent host2;

  /** web's disk on the pool shared by both hosts: only memory crosses. */
  static LiveFaultScene shared(Path dir) throws Exception {
    TestCluster c = new TestCluster(dir);
    List<FakeAgent> hosts = c.twoHostsWithWebOnShared();
    return new LiveFaultScene(c, hosts.get(0), hosts.get(1));
  }

  /** web's disk on host1's own pool: a migration with {@code --copy-storage} writes it into host2's pool. */
  static LiveFaultScene copyingStorage(Path dir) throws Exception {
    TestCluster c = new TestCluster(dir);
    FakeAgent host1 = c.hostWithLocalPool("host1");
    FakeAgent host2 = c.hostWithLocalPool("host2");
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status()).isEqualTo(201);
    assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/shared/vmlinuz", null, null, null,
        List.of(new DiskRequest(GIB, "local", null)), true)).status()).isEqualTo(201);
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
    return new LiveFaultScene(c, host1, host2);
  }

  private LiveFaultScene(TestCluster c, FakeAgent host1, FakeAgent host2) {
    this.c = c;
    this.host1 = host1;
    this.host2 = host2;
    host1.script.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 400 * MIB, 700 * MIB, 20 * MIB, 1, 2000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, GIB, 100 * MIB, 20 * MIB, 2, 900L),
        stats(OutgoingPhase.SWITCHOVER, QemuMigrationStatus.DEVICE, GIB + 100 * MIB, 0, 20 * MIB, 3, 10L),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB + 110 * MIB, 0, 0, 4, 0L)));
    host1.calls.clear();
    host2.calls.clear();
  }

  /** Post-copy asked for at once ({@code --postcopy always}); the target runs the guest until told it completed. */
  void postcopyScript() {
    host1.script.clear();
    for (int pass = 1; pass < 40; pass++) {
      host1.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 100 * MIB, 600 * MIB, 300 * MIB,
          pass, 4000L));
    }
    host1.postcopyScript.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1200 * MIB, 200 * MIB,
        20 * MIB, 3, null));
  }

  void postcopyCompletes() {
    host1.postcopyScript.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 1400 * MIB, 0, 0, 3, 0L));
  }

  /** Starts the migration and waits for the create's answer (the target is prepared by then). */
  String start(String postcopy, boolean copyStorage) throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/live",
        new LiveMigrationRequest("web", "host2", null, null, postcopy, null, null, null, copyStorage, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  String start() throws Exception {
    return start("never", false);
  }

  /** Starts the migration aside (its create waits for the target, which a test may be holding); the id once listed. */
  String startAside() {
    CompletableFuture.runAsync(() -> {
      try {
        c.post("/api/migrations/live",
            new LiveMigrationRequest("web", "host2", null, null, "never", null, null, null, null, null, null));
      } catch (Exception e) {
        // the test judges by the migration's record
      }
    });
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25)).until(() -> !c.get("/api/migrations")
        .json().findParents("status").isEmpty());
    try {
      return c.get("/api/migrations").json().findParents("status").getFirst().get("id").asText();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Asks for a cancel aside: its answer waits for the outcome, which a test may be holding. */
  void cancelAside(String id) {
    CompletableFuture.runAsync(() -> {
      try {
        c.post("/api/migrations/" + id + "/cancel", null);
      } catch (Exception e) {
        // the test judges by the migration's record
      }
    });
  }

  void awaitPhase(String id, String phase) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(phase));
  }

  void awaitCall(FakeAgent host, String call) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25)).until(() -> host.calls.contains(call));
  }

  /** The agent is down for {@link #OUTAGE}, then back with its state. */
  static void outage(FakeAgent host) throws InterruptedException {
    host.die();
    Thread.sleep(OUTAGE);
    host.revive();
  }

  JsonNode awaitFinal(String id) {
    return c.awaitFinal(id, Duration.ofSeconds(40));
  }

  List<String> phases(String id) {
    return c.phases(id);
  }

  /** Rolled forward: succeeded, never rolled back, the source never cancelled, the target's guest kept; web on host2 only. */
  void assertRolledForward(String id, JsonNode done) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(phases(id)).as("never rolled back").doesNotContain("cancelling", "rolled_back", "lost").endsWith("done");
    assertThat(host1.changes()).as("the source never cancelled").doesNotContain(CANCEL).contains(COMPLETE);
    assertThat(host2.changes()).as("the target's guest kept").doesNotContain(DELETE_INCOMING).contains(FINISH);
    assertOnExactlyOneHost("host2");
    assertNoLockLeft(done);
  }

  /** Rolled back: failed (or cancelled) in rolled_back, the target never resumed and deleted, the source never completed; web on host1 only. */
  void assertRolledBack(JsonNode done, String status) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo(status);
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(host2.changes()).as("the target never ran the guest, and is gone").doesNotContain(FINISH)
        .contains(DELETE_INCOMING);
    assertThat(host1.changes()).as("the source keeps its guest").doesNotContain(COMPLETE);
    assertOnExactlyOneHost("host1");
    assertNoLockLeft(done);
  }

  void assertOnExactlyOneHost(String owner) throws Exception {
    assertThat(c.get("/api/vms/web").json().get("host").asText()).as("inventory").isEqualTo(owner);
    FakeAgent holder = owner.equals("host1") ? host1 : host2;
    FakeAgent other = owner.equals("host1") ? host2 : host1;
    assertThat(holder.vms).as("defined on " + owner).containsKey("web");
    assertThat(other.vms).as("not on the other host").doesNotContainKey("web");
  }

  void assertNoLockLeft(JsonNode done) throws Exception {
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/web/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left").isEqualTo(409);
  }

  static void record(String phase, Fault fault, String test, String outcome) {
    new FaultCell("live", phase, fault, test, Level.SCRIPTED, outcome).record();
  }

  @Override
  public void close() {
    c.close();
  }
}
