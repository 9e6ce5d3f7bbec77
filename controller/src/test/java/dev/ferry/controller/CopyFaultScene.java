package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.ColdMigrationRequest;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The scene of the cold and warm fault matrix classes: one real controller and two scripted
 * agents over real HTTP for the whole class (a controller death restarts it on the same store),
 * and a new VM per cell, running on host1 with its disk in host1's pool {@code local}, moved to
 * host2's pool {@code local}. What every cell checks about both hosts is here: the final record,
 * the VM on exactly one host and running there, the target's copies deleted after a rollback,
 * and the source's disks deleted only after both copies were compared.
 */
final class CopyFaultScene implements AutoCloseable {

  static final long MIB = 1L << 20;
  /** an agent's restart: several of the runner's calls refused (it retries every 500 ms), short of the grace */
  static final Duration OUTAGE = Duration.ofMillis(700);

  final TestCluster c;
  final FakeAgent host1;
  final FakeAgent host2;
  private int cells;
  /** the VM of the cell under way */
  String vm;
  private CountDownLatch gate;
  private FakeAgent heldHost;
  private String heldCall;

  CopyFaultScene(Path dir) throws Exception {
    this(new TestCluster(dir));
  }

  /** The scene on a cluster the caller made (e.g. with a clock of its own). */
  CopyFaultScene(TestCluster cluster) throws Exception {
    c = cluster;
    host1 = c.hostWithLocalPool("host1");
    host2 = c.hostWithLocalPool("host2");
    assertThat(c.post("/api/pools", new PoolCreateRequest("shared", null, "/pools/shared", true)).status())
        .isEqualTo(201);
  }

  /** A new running VM on host1 for the next cell (small: every moved VM stays on host2), and the fakes reset. */
  String newVm() throws Exception {
    for (FakeAgent h : List.of(host1, host2)) {
      h.failOn = null;
      h.pauseOn = null;
      h.pausePrefix = null;
      h.pauseGate = null;
      h.holdColdCopy = false;
      h.coldCopyError = null;
      h.holdWarmPassFrom = Integer.MAX_VALUE;
      h.warmPassError = null;
      h.warmPassErrorOnce = false;
      h.refuseWarmCopy = null;
      h.refusesPowerDown.clear();
      h.qemuDiesAtPowerButton.clear();
      h.startCrashes = 0;
      h.revive();
    }
    vm = "v" + ++cells;
    // the hosts are heard from first: a cell that took longer than the heartbeat timeout (an agent's
    // held call outliving its death ran into the controller's 10 s call timeout) left both unreachable,
    // and every test after it failed at this creation instead of only that cell being slow
    heartbeats();
    TestCluster.Reply r = c.post("/api/vms", new VmCreateRequest(vm, "host1", 64 * MIB, 1, "/pools/shared/vmlinuz", null,
        null, null, List.of(new DiskRequest(1L << 30, "local", null)), true));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    heartbeats();
    host1.calls.clear();
    host2.calls.clear();
    return vm;
  }

  void heartbeats() throws Exception {
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
  }

  String path() {
    return "/agent/vms/" + vm;
  }

  /** Cold with --shutdown and --start: the running VM powers off, moves, and runs on host2. */
  String startCold() throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/cold",
        new ColdMigrationRequest(vm, "host2", null, null, true, "5s", true, null, null, null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  /** Warm with {@code --cutover auto} and a generous limit: pass 0, then the cutover and the final pass 1. */
  String startWarm() throws Exception {
    TestCluster.Reply r = c.post("/api/migrations/warm",
        new WarmMigrationRequest(vm, "host2", null, null, "1s", "auto", 600_000L, "5s", null));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  /** The calls of {@code host} that start with {@code prefix} wait until {@link #release}. */
  void holdCall(FakeAgent host, String prefix) {
    heldHost = host;
    heldCall = prefix;
    gate = new CountDownLatch(1);
    host.pausePrefix = prefix;
    host.pauseGate = gate;
  }

  /** The held call goes on; from now on the calls of {@code host} that start with {@code prefix} wait instead. */
  void holdNext(FakeAgent host, String prefix) {
    CountDownLatch before = gate;
    heldHost.pausePrefix = null;
    heldHost.pauseGate = null;
    holdCall(host, prefix);
    before.countDown();
  }

  /** Every held call goes on; every held copy and pass finishes. */
  void release() {
    for (FakeAgent h : List.of(host1, host2)) {
      h.pauseGate = null;
      h.failOnce = null;
      h.holdColdCopy = false;
      h.holdWarmPassFrom = Integer.MAX_VALUE;
    }
    if (gate != null) gate.countDown();
  }

  /** Waits until the held call arrived. */
  void awaitHeld() {
    awaitCall(heldHost, heldCall);
  }

  void awaitPhase(String id, String phase) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> c.get("/api/migrations/" + id).json().get("phase").asText().equals(phase));
  }

  void awaitCall(FakeAgent host, String prefix) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25))
        .until(() -> host.calls.stream().anyMatch(x -> x.startsWith(prefix)));
  }

  JsonNode awaitFinal(String id) {
    return c.awaitFinal(id, Duration.ofSeconds(40));
  }

  /**
   * Rolled forward: succeeded, never rolled back; the VM runs on host2 only, the source's
   * definition deleted only after the hashes of both copies were taken.
   */
  void assertRolledForward(String id, JsonNode done) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(c.phases(id)).as("never rolled back").doesNotContain("cancelling", "rolled_back").endsWith("done");
    assertThat(done.get("verified").asBoolean()).as(done.toString()).isTrue();
    List<String> source = host1.changes();
    int hashed = Math.max(source.indexOf("POST " + path() + "/cold-export/hashes"),
        source.indexOf("POST " + path() + "/warm-source/hashes"));
    int deleted = source.indexOf("DELETE " + path());
    assertThat(hashed).as("the source was hashed: " + source).isNotNegative();
    assertThat(deleted).as("the source's disks deleted only after verification: " + source).isGreaterThan(hashed);
    assertOnExactlyOneHost("host2");
    assertNoLockLeft(done);
  }

  /**
   * Rolled back: failed in rolled_back with {@code words} in the reason; the VM runs on host1 only,
   * the target's copy deleted (the target was asked, and holds none) and nothing defined there.
   */
  void assertRolledBack(String id, JsonNode done, String copies, String... words) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).as(done.toString()).contains(words);
    assertThat(host2.changes()).as("the target's copy deleted").contains("DELETE /agent/" + copies + "/" + id);
    assertThat(host2.coldCopies).as("the target holds no cold copy").isEmpty();
    assertThat(host2.warmCopies).as("the target holds no warm copy").isEmpty();
    assertThat(host1.changes()).as("the source kept its vm").doesNotContain("DELETE " + path());
    assertOnExactlyOneHost("host1");
    assertNoLockLeft(done);
  }

  /**
   * Rolled back over a source whose QEMU died: failed in rolled_back with {@code words} and the
   * crash left as it is in the reason; the target's copy deleted, the VM defined on host1 only,
   * crashed there, never started again, its disks not deleted.
   */
  void assertRolledBackToACrashedSource(String id, JsonNode done, String copies, String... words) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).as(done.toString()).contains(words)
        .contains("vm '" + vm + "' stays crashed on host 'host1' as its QEMU's death left it");
    assertThat(host2.changes()).as("the target's copy deleted").contains("DELETE /agent/" + copies + "/" + id);
    assertThat(host2.coldCopies).as("the target holds no cold copy").isEmpty();
    assertThat(host2.warmCopies).as("the target holds no warm copy").isEmpty();
    assertThat(host1.changes()).as("the source's disks kept, the crashed vm never started or deleted")
        .doesNotContain("DELETE " + path(), "POST " + path() + "/start");
    assertOnOneHostOnly("host1", VmState.CRASHED);
    assertNoLockLeft(done);
  }

  /** The inventory and both agents agree: the VM is defined on {@code owner} only, and runs there. */
  void assertOnExactlyOneHost(String owner) throws Exception {
    assertOnOneHostOnly(owner, VmState.RUNNING);
  }

  /** The inventory and both agents agree: the VM is defined on {@code owner} only, in {@code state} there. */
  void assertOnOneHostOnly(String owner, VmState state) throws Exception {
    assertThat(c.get("/api/vms/" + vm).json().get("host").asText()).as("inventory").isEqualTo(owner);
    FakeAgent holder = owner.equals("host1") ? host1 : host2;
    FakeAgent other = owner.equals("host1") ? host2 : host1;
    assertThat(holder.vms).as("defined on " + owner).containsKey(vm);
    assertThat(holder.vms.get(vm).state()).as(state + " on " + owner).isEqualTo(state);
    assertThat(other.vms).as("not on the other host").doesNotContainKey(vm);
  }

  /**
   * The target's QEMU died at every start after the hand-over: failed in done, the reason saying
   * so; the VM belongs to host2 and stays defined there, stopped; the source let go of it after
   * verification, no lock left (the operator can start it).
   */
  void assertMovedButNotStarted(String id, JsonNode done) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(c.phases(id)).as("never rolled back").doesNotContain("cancelling", "rolled_back").endsWith("done");
    assertThat(done.get("verified").asBoolean()).as(done.toString()).isTrue();
    assertThat(done.get("downtime_ms").isNull()).as("never ran on the target: no downtime to end").isTrue();
    assertThat(done.get("reason").asText()).as(done.toString())
        .contains("vm '" + vm + "' now belongs to host 'host2' (its disks copied there and verified, the source's"
            + " released) but did not start there in 3 tries")
        .contains("exited with status 1 during start").contains("ferry vm start " + vm);
    assertThat(host2.changes().stream().filter(x -> x.equals("POST " + path() + "/start")).count())
        .as("started 3 times").isEqualTo(3);
    List<String> source = host1.changes();
    assertThat(source.indexOf("DELETE " + path())).as("the source released after verification: " + source)
        .isGreaterThan(source.indexOf("POST " + path() + "/cold-export/hashes"));
    assertOnOneHostOnly("host2", VmState.STOPPED);
    assertNoLockLeft(done);
  }

  void assertNoLockLeft(JsonNode done) throws Exception {
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.post("/api/vms/" + vm + "/unlock", new VmUnlockRequest("matrix check")).status()).as("no lock left")
        .isEqualTo(409);
  }

  /**
   * The agent dies (its port closed, as after SIGKILL; mid-call where the cell holds one of its
   * calls), {@code whileDown} runs, the held step goes on, and the agent is back after {@link #OUTAGE}.
   */
  void agentDies(FakeAgent host, Runnable whileDown) throws InterruptedException {
    Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        return;
      }
      release();
    });
    host.die();
    whileDown.run();
    Thread.sleep(OUTAGE.toMillis());
    host.revive();
  }

  static void record(String kind, String phase, Fault fault, String test, String outcome) {
    new FaultCell(kind, phase, fault, test, Level.SCRIPTED, outcome).record();
  }

  @Override
  public void close() {
    release();
    c.close();
  }
}
