package dev.ferry.controller;

import static dev.ferry.controller.LiveFaultScene.CANCEL;
import static dev.ferry.controller.LiveFaultScene.COMPLETE;
import static dev.ferry.controller.LiveFaultScene.FINISH;
import static dev.ferry.controller.LiveFaultScene.INCOMING;
import static dev.ferry.controller.LiveFaultScene.OUTGOING;
import static dev.ferry.controller.LiveFaultScene.RECLAIM;
import static dev.ferry.controller.LiveFaultScene.STATS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.FaultCell.Fault;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The QEMU-death columns of the live fault matrix, as the agents report a dead QEMU: the source's
 * vm crashed and its stream failed (a completed stream stays completed, its outcome is on record),
 * the target's incoming QEMU {@code gone}. Before the point of no return a dead target is rolled
 * back and a dead source is left crashed where it ran, never resumed from a target that did not
 * receive everything; after it the migration rolls forward, the target holding the guest.
 */
class LiveQemuDeathFaultMatrixTest {

  @TempDir Path dir;
  LiveFaultScene s;

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(LiveQemuDeathFaultMatrixTest.class);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    FaultMatrixDoc.writeIfComplete();
  }

  @BeforeEach
  void scene() throws Exception {
    s = LiveFaultScene.shared(dir);
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void sourceQemuDies_whilePreparingTheTarget_rollsBackAndTheVmStaysCrashedOnTheSource() throws Exception {
    String id = holdWhilePreparing(() -> s.host1.qemuDies("web"));

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(done.get("reason").asText()).contains("only a running vm can migrate");
    assertCrashedOnTheSource();
    LiveFaultScene.record("preparing_target", Fault.SOURCE_QEMU,
        "LiveQemuDeathFaultMatrixTest.sourceQemuDies_whilePreparingTheTarget_rollsBackAndTheVmStaysCrashedOnTheSource",
        "rolled back: the source refuses to send a crashed vm, the target deleted unresumed; the VM crashed on the source"
            + " only");
  }

  @Test
  void targetQemuDies_whilePreparingTheTarget_rollsBackToTheSource() throws Exception {
    s.host1.holdAt = 0;
    String id = holdWhilePreparing(() -> s.host2.targetQemu = QemuMigrationStatus.GONE);

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(done.get("reason").asText()).contains("the target qemu on host 'host2' is gone",
        "the vm keeps running on host 'host1'");
    assertThat(s.host1.changes()).endsWith(CANCEL);
    LiveFaultScene.record("preparing_target", Fault.TARGET_QEMU,
        "LiveQemuDeathFaultMatrixTest.targetQemuDies_whilePreparingTheTarget_rollsBackToTheSource",
        "rolled back: the gone target seen at the first check, the source's stream cancelled, the target deleted; the VM"
            + " runs on the source only");
  }

  @Test
  void sourceQemuDies_inSwitchover_rollsBackNeverResumingTheIncompleteTarget() throws Exception {
    s.host1.holdAt = 2;
    String id = s.start();
    s.awaitPhase(id, "switchover");

    s.host1.qemuDies("web");

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(done.get("reason").asText()).contains("switchover failed on host 'host1'", "qemu exited");
    assertThat(s.host1.changes()).as("nothing to cancel on a failed stream").containsExactly(OUTGOING);
    assertCrashedOnTheSource();
    LiveFaultScene.record("switchover", Fault.SOURCE_QEMU,
        "LiveQemuDeathFaultMatrixTest.sourceQemuDies_inSwitchover_rollsBackNeverResumingTheIncompleteTarget",
        "rolled back: the target, which never received the whole guest, deleted unresumed; the VM crashed on the source"
            + " only, as a crash without a migration");
  }

  @Test
  void targetQemuDies_inSwitchover_rollsBackToTheSource() throws Exception {
    s.host1.holdAt = 2;
    String id = s.start();
    s.awaitPhase(id, "switchover");

    s.host2.targetQemu = QemuMigrationStatus.GONE;

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(done.get("reason").asText()).contains("the target qemu on host 'host2' is gone");
    assertThat(s.host1.changes()).endsWith(CANCEL);
    LiveFaultScene.record("switchover", Fault.TARGET_QEMU,
        "LiveQemuDeathFaultMatrixTest.targetQemuDies_inSwitchover_rollsBackToTheSource",
        "rolled back: the source cancelled (its guest resumes), the gone target deleted; the VM runs on the source only");
  }

  @Test
  void sourceQemuDies_whileResumingTheTarget_rollsForward() throws Exception {
    s.host2.failOn = FINISH;
    String id = s.start();
    s.awaitPhase(id, "resuming_target");

    s.host1.qemuDies("web");
    s.host2.failOn = null;

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("resuming_target", Fault.SOURCE_QEMU,
        "LiveQemuDeathFaultMatrixTest.sourceQemuDies_whileResumingTheTarget_rollsForward",
        "rolled forward: the target holds the whole guest since the completion; the dead source's paused copy was not"
            + " needed and is forgotten; the VM on the target only");
  }

  @Test
  void targetQemuDies_whileResumingTheTargetBeforeItRan_givesTheGuestBackToTheSource() throws Exception {
    s.host2.failOn = FINISH;
    String id = s.start();
    s.awaitPhase(id, "resuming_target");

    s.host2.targetQemu = QemuMigrationStatus.GONE;
    s.host2.failOn = null;

    JsonNode done = s.awaitFinal(id);
    // not assertRolledBack: the finish was asked for (and refused by the agent whose QEMU was gone)
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("failed");
    assertThat(done.get("phase").asText()).isEqualTo("rolled_back");
    assertThat(s.host2.changes()).as("the gone target deleted").endsWith(LiveFaultScene.DELETE_INCOMING);
    assertThat(s.host1.changes()).as("the source never completed").doesNotContain(COMPLETE);
    s.assertOnExactlyOneHost("host1");
    s.assertNoLockLeft(done);
    assertThat(done.get("reason").asText()).contains("the target qemu on host 'host2' died before the guest ever ran",
        "resumes on host 'host1'");
    assertThat(s.phases(id)).containsSubsequence("switchover", "resuming_target", "cancelling", "rolled_back");
    assertThat(s.host1.changes()).as("the completed source took its guest back, never completed")
        .endsWith(RECLAIM).doesNotContain(CANCEL);
    LiveFaultScene.record("resuming_target", Fault.TARGET_QEMU,
        "LiveQemuDeathFaultMatrixTest.targetQemuDies_whileResumingTheTargetBeforeItRan_givesTheGuestBackToTheSource",
        "rolled back: the target never ran the guest (its agent still said listening), so the completed source's"
            + " paused copy, the one whole guest, resumed there (reclaim); the gone target deleted; the VM on the source"
            + " only. A target whose resume had begun is rolled forward, crashed there (LiveMigrationFaultRulesTest)");
  }

  @Test
  void sourceQemuDies_whileTransferring_rollsForward() throws Exception {
    s.host1.failOn = COMPLETE;
    String id = s.start();
    s.awaitPhase(id, "transferring");

    s.host1.qemuDies("web");
    s.host1.failOn = null;

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("transferring", Fault.SOURCE_QEMU,
        "LiveQemuDeathFaultMatrixTest.sourceQemuDies_whileTransferring_rollsForward",
        "rolled forward: the source completed without its (already paused, no longer needed) QEMU; the VM on the target"
            + " only");
  }

  @Test
  void targetQemuDies_whileTransferring_rollsForwardAndTheCrashIsTheTargets() throws Exception {
    s.host1.failOn = COMPLETE;
    String id = s.start();
    s.awaitPhase(id, "transferring");

    s.host2.qemuDies("web");
    s.host1.failOn = null;

    s.assertRolledForward(id, s.awaitFinal(id));
    assertThat(s.host2.vms.get("web").state()).isEqualTo(VmState.CRASHED);
    LiveFaultScene.record("transferring", Fault.TARGET_QEMU,
        "LiveQemuDeathFaultMatrixTest.targetQemuDies_whileTransferring_rollsForwardAndTheCrashIsTheTargets",
        "rolled forward: the guest ran on the target, so its crash there is the VM's own (crashed on the target);"
            + " the source's older copy never resumed; the VM on the target only");
  }

  @Test
  void sourceQemuDies_whileCancelling_theRollbackEndsAndTheVmStaysCrashedOnTheSource() throws Exception {
    String id = holdInCancelling();

    s.host1.qemuDies("web");
    s.host1.failOn = null;

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(done, "failed");
    assertThat(s.host1.changes()).as("nothing to cancel on a failed stream").containsExactly(OUTGOING);
    assertCrashedOnTheSource();
    LiveFaultScene.record("cancelling", Fault.SOURCE_QEMU,
        "LiveQemuDeathFaultMatrixTest.sourceQemuDies_whileCancelling_theRollbackEndsAndTheVmStaysCrashedOnTheSource",
        "rolled back: the target deleted unresumed; the VM crashed on the source only");
  }

  @Test
  void targetQemuDies_whileCancelling_theRollbackEnds() throws Exception {
    String id = holdInCancelling();

    s.host2.targetQemu = QemuMigrationStatus.GONE;
    s.host1.failOn = null;

    s.assertRolledBack(s.awaitFinal(id), "failed");
    assertThat(s.host1.changes()).endsWith(CANCEL);
    LiveFaultScene.record("cancelling", Fault.TARGET_QEMU,
        "LiveQemuDeathFaultMatrixTest.targetQemuDies_whileCancelling_theRollbackEnds",
        "rolled back: the source cancelled (its guest resumes), the gone target's leftovers deleted; the VM on the source"
            + " only");
  }

  /** Starts the migration with the target's prepare held, injects {@code fault} meanwhile, lets the prepare answer. */
  private String holdWhilePreparing(Runnable fault) {
    CountDownLatch gate = new CountDownLatch(1);
    s.host2.pauseOn = INCOMING;
    s.host2.pauseGate = gate;
    String id = s.startAside();
    s.awaitCall(s.host2, INCOMING);
    s.awaitPhase(id, "preparing_target");
    fault.run();
    gate.countDown();
    return id;
  }

  /** A rollback held in cancelling: the source's status answers 500 until the test clears {@code failOn}. */
  private String holdInCancelling() throws Exception {
    s.host1.holdAt = 0;
    String id = s.start();
    s.awaitCall(s.host1, OUTGOING);
    s.host1.failOn = STATS;
    s.awaitPhase(id, "cancelling");
    return id;
  }

  private void assertCrashedOnTheSource() {
    assertThat(s.host1.vms.get("web").state()).as("left as QEMU's death left it, never resumed elsewhere")
        .isEqualTo(VmState.CRASHED);
  }
}
