package dev.ferry.controller;

import static dev.ferry.controller.LiveFaultScene.FINISH;
import static dev.ferry.controller.LiveFaultScene.INCOMING;
import static dev.ferry.controller.LiveFaultScene.OUTGOING;
import static dev.ferry.controller.LiveFaultScene.COMPLETE;
import static dev.ferry.controller.LiveFaultScene.DELETE_INCOMING;
import static dev.ferry.controller.LiveFaultScene.outage;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
 * The agent-death columns of the live fault matrix: an agent's port closes (connection refused,
 * as after a SIGKILL) while the migration is held in a phase, and comes back with its state, as
 * a supervised agent does. Its QEMU runs on meanwhile. Every call the runner makes rides such a
 * restart out (the agent grace), so in every phase the migration ends as if nothing happened:
 * forward, never rolled back, the VM on exactly one host. An agent that stays silent past the
 * grace (60 s, too long for a scripted test) fails the step instead; what that does is proven by
 * {@code LiveMigrationFaultRulesTest} with an agent that fails its calls: before the point of no
 * return the rollback keeps both sides until the source answers, after it the phase stays stuck
 * and retries.
 */
class LiveAgentDeathFaultMatrixTest {

  private static final String RIDDEN_OUT = "the agent's restart ridden out (calls retried within the agent grace);"
      + " the migration went on and succeeded: the VM on the target only, never rolled back";

  @TempDir Path dir;
  LiveFaultScene s;

  @BeforeAll
  static void clearRecords() throws Exception {
    FaultMatrixDoc.clear(LiveAgentDeathFaultMatrixTest.class);
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
  void sourceAgentDies_whilePreparingTheTarget_ridesItOutAndSucceeds() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    s.host2.pauseOn = INCOMING;
    s.host2.pauseGate = gate;
    String id = s.startAside();
    s.awaitCall(s.host2, INCOMING);
    s.awaitPhase(id, "preparing_target");

    s.host1.die();
    gate.countDown();
    Thread.sleep(LiveFaultScene.OUTAGE);
    s.host1.revive();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(s.phases(id)).containsExactly("pending", "preparing_target", "migrating", "switchover", "resuming_target",
        "transferring", "done");
    LiveFaultScene.record("preparing_target", Fault.SOURCE_AGENT,
        "LiveAgentDeathFaultMatrixTest.sourceAgentDies_whilePreparingTheTarget_ridesItOutAndSucceeds", RIDDEN_OUT);
  }

  @Test
  void targetAgentDies_whilePreparingTheTarget_ridesItOutAndSucceeds() throws Exception {
    s.host2.die();
    String id = s.startAside();
    s.awaitPhase(id, "preparing_target");
    Thread.sleep(LiveFaultScene.OUTAGE);
    assertThat(s.c.get("/api/migrations/" + id).json().get("phase").asText()).as("waits for the target")
        .isEqualTo("preparing_target");
    s.host2.revive();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(s.host2.changes()).startsWith(INCOMING);
    LiveFaultScene.record("preparing_target", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_whilePreparingTheTarget_ridesItOutAndSucceeds", RIDDEN_OUT);
  }

  @Test
  void sourceAgentDies_whileMigrating_ridesItOutAndSucceeds() throws Exception {
    s.host1.holdAt = 0;
    String id = s.start();
    s.awaitCall(s.host1, OUTGOING);
    s.awaitPhase(id, "migrating");

    outage(s.host1);
    s.host1.holdAt = Integer.MAX_VALUE;

    s.assertRolledForward(id, s.awaitFinal(id));
    assertThat(s.host1.changes()).as("the stream was not started twice").containsOnlyOnce(OUTGOING);
    LiveFaultScene.record("migrating", Fault.SOURCE_AGENT,
        "LiveAgentDeathFaultMatrixTest.sourceAgentDies_whileMigrating_ridesItOutAndSucceeds", RIDDEN_OUT);
  }

  @Test
  void targetAgentDies_whileMigrating_ridesItOutAndSucceeds() throws Exception {
    s.host1.holdAt = 0;
    String id = s.start();
    s.awaitCall(s.host1, OUTGOING);
    s.awaitPhase(id, "migrating");

    outage(s.host2);
    s.host1.holdAt = Integer.MAX_VALUE;

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("migrating", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_whileMigrating_ridesItOutAndSucceeds",
        "the target's silence tolerated (under 15 s, its QEMU still receives); the migration succeeded: the VM on the"
            + " target only");
  }

  @Test
  void sourceAgentDies_inPostcopy_ridesItOutAndSucceeds() throws Exception {
    s.postcopyScript();
    String id = s.start("always", false);
    s.awaitPhase(id, "postcopy");
    s.awaitCall(s.host2, FINISH);

    outage(s.host1);
    s.postcopyCompletes();

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("postcopy", Fault.SOURCE_AGENT,
        "LiveAgentDeathFaultMatrixTest.sourceAgentDies_inPostcopy_ridesItOutAndSucceeds",
        "waited for (the source QEMU still serves pages); rolled forward: the VM on the target only, the source never"
            + " resumed or cancelled");
  }

  @Test
  void targetAgentDies_inPostcopy_ridesItOutAndSucceeds() throws Exception {
    s.postcopyScript();
    String id = s.start("always", false);
    s.awaitPhase(id, "postcopy");
    s.awaitCall(s.host2, FINISH);

    outage(s.host2);
    s.postcopyCompletes();

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("postcopy", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_inPostcopy_ridesItOutAndSucceeds",
        "waited for (the target QEMU runs the guest on); rolled forward: the VM on the target only, never rolled back");
  }

  @Test
  void sourceAgentDies_inSwitchover_ridesItOutAndSucceeds() throws Exception {
    s.host1.holdAt = 2;
    String id = s.start();
    s.awaitPhase(id, "switchover");

    outage(s.host1);
    s.host1.holdAt = Integer.MAX_VALUE;

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("switchover", Fault.SOURCE_AGENT,
        "LiveAgentDeathFaultMatrixTest.sourceAgentDies_inSwitchover_ridesItOutAndSucceeds", RIDDEN_OUT);
  }

  @Test
  void targetAgentDies_inSwitchover_ridesItOutAndSucceeds() throws Exception {
    s.host1.holdAt = 2;
    String id = s.start();
    s.awaitPhase(id, "switchover");

    outage(s.host2);
    s.host1.holdAt = Integer.MAX_VALUE;

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("switchover", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_inSwitchover_ridesItOutAndSucceeds", RIDDEN_OUT);
  }

  @Test
  void sourceAgentDies_whileResumingTheTarget_rollsForward() throws Exception {
    s.host2.failOn = FINISH;
    String id = s.start();
    s.awaitPhase(id, "resuming_target");

    s.host1.die();
    s.host2.failOn = null;
    Thread.sleep(LiveFaultScene.OUTAGE);
    s.host1.revive();

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("resuming_target", Fault.SOURCE_AGENT,
        "LiveAgentDeathFaultMatrixTest.sourceAgentDies_whileResumingTheTarget_rollsForward",
        "rolled forward: the target resumed, the source's completion waited for; the VM on the target only");
  }

  @Test
  void targetAgentDies_whileResumingTheTarget_rollsForward() throws Exception {
    s.host2.failOn = FINISH;
    String id = s.start();
    s.awaitPhase(id, "resuming_target");

    s.host2.die();
    s.host2.failOn = null;
    Thread.sleep(LiveFaultScene.OUTAGE);
    s.host2.revive();

    s.assertRolledForward(id, s.awaitFinal(id));
    LiveFaultScene.record("resuming_target", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_whileResumingTheTarget_rollsForward",
        "stuck while the target does not answer, the resume retried until it did: rolled forward, the VM on the target"
            + " only, the source never cancelled");
  }

  @Test
  void targetAgentDies_whileTransferring_finishesWithoutIt() throws Exception {
    s.host1.failOn = COMPLETE;
    String id = s.start();
    s.awaitPhase(id, "transferring");

    s.host2.die();
    s.host1.failOn = null;

    JsonNode done = s.awaitFinal(id);
    s.host2.revive();
    s.assertRolledForward(id, done);
    LiveFaultScene.record("transferring", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_whileTransferring_finishesWithoutIt",
        "the phase needs only the source: succeeded while the target agent was down; the VM on the target only");
  }

  @Test
  void targetAgentDies_whileCancelling_theRollbackWaitsAndFinishes() throws Exception {
    s.host1.holdAt = 0;
    String id = s.start();
    s.awaitCall(s.host1, OUTGOING);

    s.host2.die();
    s.cancelAside(id);
    s.awaitPhase(id, "cancelling");
    Thread.sleep(LiveFaultScene.OUTAGE);
    assertThat(s.c.get("/api/migrations/" + id).json().get("status").asText()).as("waits for the target")
        .isEqualTo("running");
    s.host2.revive();

    s.assertRolledBack(s.awaitFinal(id), "cancelled");
    assertThat(s.host2.changes()).endsWith(DELETE_INCOMING);
    LiveFaultScene.record("cancelling", Fault.TARGET_AGENT,
        "LiveAgentDeathFaultMatrixTest.targetAgentDies_whileCancelling_theRollbackWaitsAndFinishes",
        "the rollback waits for the target (the source already runs the guest again), then deletes it: the VM on the"
            + " source only");
  }
}
