package dev.ferry.controller;

import static dev.ferry.controller.FakeAgent.stats;
import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.ferry.api.VmState;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The phase rules of a live migration under faults (issue 9 B1, B2, B3, B8), against two scripted
 * agents over real HTTP: the exact phases, and what each host was asked to do, or never asked.
 */
class LiveMigrationFaultRulesTest {

  private static final long MIB = 1L << 20;

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
    host1.script.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 400 * MIB, 700 * MIB, 20 * MIB, 1, 2000L),
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, GIB, 100 * MIB, 20 * MIB, 2, 900L),
        stats(OutgoingPhase.SWITCHOVER, QemuMigrationStatus.DEVICE, GIB + 100 * MIB, 0, 20 * MIB, 3, 10L),
        stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB + 110 * MIB, 0, 0, 4, 0L)));
    host1.calls.clear();
    host2.calls.clear();
  }

  @AfterEach
  void stop() {
    c.close();
  }

  /**
   * The target's QEMU dies after its agent recorded {@code resuming} (the {@code cont} may have
   * run the guest there and it may have written): never given back to the source, whose copy may
   * be older; rolled forward, the VM the target's, crashed there.
   */
  @Test
  void targetQemuDiesAfterTheResumeBegan_rollsForwardAndTheCrashIsTheTargets() throws Exception {
    host2.failOn = "POST /agent/vms/web/incoming/finish";
    String id = start(live("never")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> c.get("/api/migrations/" + id).json().get("phase").asText()
        .equals("resuming_target"));

    host2.incomingPhase.put("web", IncomingPhase.RESUMING);
    host2.targetQemu = QemuMigrationStatus.GONE;
    host2.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
    assertThat(host2.vms.get("web").state()).as("the guest may have written there: crashed, never resumed elsewhere")
        .isEqualTo(VmState.CRASHED);
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/reclaim")
        .contains("POST /agent/vms/web/outgoing/complete");
  }

  /**
   * B2: the source agent fails the completion after the target already runs the guest. Before,
   * the migration ended FAILED ("a restart retries") and nothing ever retried it. Now it stays
   * running as {@code stuck: REASON}, survives a controller restart, and finishes once the agent
   * answers again.
   */
  @Test
  void completeFailsPastThePointOfNoReturn_staysRunningStuckAcrossARestartAndFinishes() throws Exception {
    host1.failOn = "POST /agent/vms/web/outgoing/complete";
    String id = start(live("never")).get("id").asText();

    JsonNode stuck = awaitStuck(id);
    assertThat(stuck.get("status").asText()).isEqualTo("running");
    assertThat(stuck.get("phase").asText()).isEqualTo("transferring");
    assertThat(stuck.get("stuck").asText()).contains("injected failure of POST /agent/vms/web/outgoing/complete",
        "past the point of no return");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).as("owner already moved").isEqualTo("host2");

    c.restart();
    host1.heartbeat(c.controller.url());
    host2.heartbeat(c.controller.url());
    assertThat(c.get("/api/migrations/" + id).json().get("status").asText()).isEqualTo("running");
    host1.failOn = null;

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(60));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("reason").isNull()).as(done.toString()).isTrue();
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "switchover", "resuming_target",
        "transferring", "done");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/cancel")
        .endsWith("POST /agent/vms/web/outgoing/complete", "delete_source_images=false");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "POST /agent/vms/web/incoming/finish");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  /**
   * B3: post-copy breaks on the source. Before, LiveCopy moved to CANCELLING: the source was told
   * to cancel and the target deleted, although the target had run the guest. Now the migration
   * ends as lost, saying so, and neither host is asked to cancel, resume or delete anything.
   */
  @Test
  void postcopyBreaksOnTheSource_endsLostWithoutCancelOrDelete() throws Exception {
    precopyOnly();
    host1.postcopyScript.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1200 * MIB, 200 * MIB, 20 * MIB, 3, null),
        stats(OutgoingPhase.FAILED, QemuMigrationStatus.FAILED, 1300 * MIB, 100 * MIB, 0, 3, null)));
    String id = start(live("always")).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("lost");
    assertThat(done.get("postcopy").asBoolean()).isTrue();
    assertThat(done.get("reason").asText()).contains("post-copy broke on host 'host1'", "connection reset by the target",
        "neither host was resumed or cleaned up");
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "postcopy", "lost");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing", "POST /agent/vms/web/outgoing/postcopy");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "POST /agent/vms/web/incoming/finish");
  }

  /** B3: once post-copy is recorded a cancel is refused, and the migration finishes forward. */
  @Test
  void cancelInPostcopy_is409AndTheMigrationFinishesOnTheTarget() throws Exception {
    precopyOnly();
    host1.postcopyScript.addAll(List.of(
        stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.POSTCOPY_ACTIVE, 1200 * MIB, 200 * MIB, 20 * MIB, 3, null)));
    String id = start(live("always")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> host2.calls.contains("POST /agent/vms/web/incoming/finish"));

    TestCluster.Reply r = c.post("/api/migrations/" + id + "/cancel", null);
    host1.postcopyScript.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, 1400 * MIB, 0, 0, 3, 0L));

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("post-copy");
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).isEqualTo("succeeded");
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "postcopy", "resuming_target",
        "transferring", "done");
    assertThat(host1.changes()).doesNotContain("POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  /**
   * B1: a rollback while the source's agent cannot say what its QEMU did. Before, the target was
   * deleted anyway, although QEMU may have completed by itself and left the paused source as the
   * only good copy. Now both sides are kept, the rollback shows stuck and retries, and only once
   * the source answered (cancelled, guest resumed) is the target deleted.
   */
  @Test
  void rollbackWithTheSourceUnknown_keepsBothSidesUntilTheSourceAnswers() throws Exception {
    host1.holdAt = 0;
    String id = start(live("never")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing"));
    host1.failOn = "GET /agent/vms/web/outgoing";

    JsonNode stuck = awaitStuck(id);
    assertThat(stuck.get("status").asText()).isEqualTo("running");
    assertThat(stuck.get("phase").asText()).isEqualTo("cancelling");
    assertThat(stuck.get("stuck").asText()).contains("state of vm 'web' on source host 'host1' is unknown",
        "nothing deleted on a guess");
    Thread.sleep(1500);
    assertThat(host2.changes()).as("target kept while the source is unknown").doesNotContain("DELETE /agent/vms/web/incoming");

    host1.failOn = null;
    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));
    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("injected failure of GET");
    assertThat(done.get("stuck").isNull()).as(done.toString()).isTrue();
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "cancelling", "rolled_back");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing", "POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host1");
  }

  /**
   * B1: a source lost for good leaves the rollback stuck and the vm locked by its migration. An
   * operator who checked both hosts unlocks it with a reason: the migration ends failed where it
   * stopped, the reason is in its record, no agent is asked anything more, and the vm takes
   * actions again.
   */
  @Test
  void unlock_stuckRollback_endsTheMigrationAuditedAndFreesTheVm() throws Exception {
    host1.holdAt = 0;
    String id = start(live("never")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing"));
    host1.failOn = "GET /agent/vms/web/outgoing";
    awaitStuck(id);
    assertThat(c.post("/api/vms/web/stop", null).status()).as("locked by its migration").isEqualTo(409);
    assertThat(c.post("/api/vms/web/unlock", new dev.ferry.api.VmUnlockRequest(" ")).field()).isEqualTo("reason");

    TestCluster.Reply r = c.post("/api/vms/web/unlock", new dev.ferry.api.VmUnlockRequest("host1 lost for good, checked"));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("id").asText()).isEqualTo(id);
    JsonNode done = c.get("/api/migrations/" + id).json();
    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("cancelling");
    assertThat(done.get("stuck").isNull()).isTrue();
    assertThat(done.get("reason").asText()).contains("unlocked by an operator", "host1 lost for good, checked",
        "stopped in phase cancelling", "source host 'host1' is unknown");
    int calls1 = host1.calls.size();
    int calls2 = host2.calls.size();
    Thread.sleep(2500);
    assertThat(host1.calls).as("no agent asked anything after the unlock").hasSize(calls1);
    assertThat(host2.calls).hasSize(calls2);
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
    host1.failOn = null;
    assertThat(c.post("/api/vms/web/stop", null).status()).as("the vm takes actions again").isEqualTo(200);
    assertThat(c.post("/api/vms/web/unlock", new dev.ferry.api.VmUnlockRequest("again")).status()).isEqualTo(409);
  }

  /**
   * Unlock after the source completed: the target never resumes the guest (lost for good), so the
   * migration is stuck past the point of no return. Before, the unlock ended it on the controller
   * only, and the source agent kept its {@code completed} record for good: the vm stayed busy
   * there and every later migration of it was refused as "already migrating". Now the unlock asks
   * the source to let go of that record, and says in the audit that it did.
   */
  @Test
  void unlock_afterTheSourceCompleted_makesTheSourceForgetItsCompletedRecord() throws Exception {
    host2.failOn = "POST /agent/vms/web/incoming/finish";
    String id = start(live("never")).get("id").asText();
    awaitStuck(id);
    assertThat(host1.outgoingStats("web").phase()).isEqualTo(OutgoingPhase.COMPLETED);

    TestCluster.Reply r = c.post("/api/vms/web/unlock", new dev.ferry.api.VmUnlockRequest("host2 lost for good, checked"));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode done = c.get("/api/migrations/" + id).json();
    assertThat(done.get("status").asText()).isEqualTo("failed");
    assertThat(done.get("reason").asText()).contains("unlocked by an operator", "host2 lost for good, checked",
        "host 'host1' let go of its completed record of the migration");
    assertThat(host1.changes()).endsWith("POST /agent/vms/web/outgoing/unlock");
    assertThat(host1.outgoing).as("the source holds no record of the migration any more").doesNotContainKey("web");
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
  }

  /**
   * B8: a pre-copy stream that stops moving (a cut link) under {@code --postcopy auto}. Before,
   * nothing noticed it without --timeout, and the stall looked like a guest outrunning the stream,
   * which escalated into post-copy towards a target the source could not reach. Now it rolls back
   * with the reason and post-copy is never asked for.
   */
  @Test
  void streamStopsMovingUnderPostcopyAuto_rollsBackWithTheReasonAndNeverSwitches() throws Exception {
    host1.script.clear();
    List<MigrationStats> moving = new ArrayList<>();
    for (int pass = 1; pass <= 3; pass++) {
      moving.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 300 * MIB, 800 * MIB, 300 * MIB, pass, 4000L));
    }
    host1.script.addAll(moving);
    String id = start(live("auto")).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(40));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(done.get("reason").asText()).contains("moved no byte for 15 s", "keeps running on host 'host1'");
    assertThat(done.get("postcopy").asBoolean()).isFalse();
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "cancelling", "rolled_back");
    assertThat(host1.changes()).containsExactly("POST /agent/vms/web/outgoing", "POST /agent/vms/web/outgoing/cancel");
    assertThat(host2.changes()).containsExactly("PUT /agent/vms/web/incoming", "DELETE /agent/vms/web/incoming");
  }

  /**
   * B7: the source completes just before the cancel reaches it. Before, the cancel answered 200
   * and the migration then succeeded anyway. Now the answer waits for the outcome and says the
   * truth: 409, not cancelled, it succeeded and the vm runs on the target.
   */
  @Test
  void cancelRacesTheSourcesCompletion_answers409SayingItSucceeded() throws Exception {
    host1.holdAt = 0;
    host1.completeBeforeCancel = true;
    String id = start(live("never")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing"));

    TestCluster.Reply r = c.post("/api/migrations/" + id + "/cancel", null);

    assertThat(r.status()).as(r.body()).isEqualTo(409);
    assertThat(r.json().get("detail").asText()).contains("was not cancelled", "succeeded", "runs on host 'host2'");
    JsonNode done = c.get("/api/migrations/" + id).json();
    assertThat(done.get("status").asText()).isEqualTo("succeeded");
    assertThat(c.phases(id)).containsExactly("pending", "preparing_target", "migrating", "cancelling", "resuming_target",
        "transferring", "done");
    assertThat(host2.changes()).doesNotContain("DELETE /agent/vms/web/incoming");
    assertThat(c.get("/api/vms/web").json().get("host").asText()).isEqualTo("host2");
  }

  /** B7: a cancel that rolls back answers 200 with the final record, not a promise. */
  @Test
  void cancelBeforeThePointOfNoReturn_answersWithTheFinalRecord() throws Exception {
    host1.holdAt = 0;
    String id = start(live("never")).get("id").asText();
    await().atMost(Duration.ofSeconds(10)).until(() -> host1.calls.contains("POST /agent/vms/web/outgoing"));

    TestCluster.Reply r = c.post("/api/migrations/" + id + "/cancel", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
    assertThat(r.json().get("phase").asText()).isEqualTo("rolled_back");
  }

  private JsonNode awaitStuck(String id) throws Exception {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> !c.get("/api/migrations/" + id).json().get("stuck").isNull());
    return c.get("/api/migrations/" + id).json();
  }

  /** Pre-copy passes that keep moving and never complete by themselves. */
  private void precopyOnly() {
    host1.script.clear();
    for (int pass = 1; pass < 40; pass++) {
      host1.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 100 * MIB, 600 * MIB, 300 * MIB, pass, 4000L));
    }
  }

  /**
   * Issue 14 asks that the switchover be driven by QMP events, not polls. The agent turns QEMU's
   * events into phase changes; the controller learns of them with one request the agent holds
   * until the phase moves (or 250 ms), where it used to ask every 50 ms. The source here holds
   * each answer while the phase stays, as a real agent does.
   */
  @Test
  void copyingRam_theSourceIsAskedToAnswerOnAPhaseChange_neverPolledInBetween() throws Exception {
    host1.script.clear();
    host1.waitsForPhase = true;
    for (int pass = 1; pass <= 6; pass++) {
      host1.script.add(stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, pass * 100 * MIB, GIB - pass * 100 * MIB,
          20 * MIB, pass, 900L));
    }
    host1.script.add(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, GIB, 0, 0, 7, 0L));
    String id = start(live("never")).get("id").asText();

    JsonNode done = c.awaitFinal(id, Duration.ofSeconds(30));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    // every stats request while RAM was copied asked to be held until the phase moves
    assertThat(host1.statsWaits).isNotEmpty().allMatch(w -> w.equals("unless=migrating wait_ms=250"));
    List<String> asked = host1.calls.stream().filter(call -> call.equals("GET /agent/vms/web/outgoing")).toList();
    // the held answers plus the few plain asks before the copy and after it; polling every 50 ms
    // meanwhile would have taken about 5 asks per held one
    assertThat(asked.size()).as("stats requests").isLessThanOrEqualTo(host1.statsWaits.size() + 6);
  }

  private static LiveMigrationRequest live(String postcopy) {
    return new LiveMigrationRequest("web", "host2", null, null, postcopy, null, null, null, null, null, null);
  }

  private JsonNode start(LiveMigrationRequest r) throws Exception {
    TestCluster.Reply reply = c.post("/api/migrations/live", r);
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return reply.json();
  }
}
