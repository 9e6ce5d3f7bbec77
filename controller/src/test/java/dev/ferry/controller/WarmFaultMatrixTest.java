package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.controller.FaultCell.Fault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The warm section of the fault matrix (issue 13's faults), as {@link ColdFaultMatrixTest} does
 * for cold: the scripted agents hold the migration in a phase, the fault strikes, and the record,
 * both hosts and the target's copies are checked. Before the ownership change a warm rollback
 * leaves the guest running on the source (a guest powered off for the cutover boots there again)
 * and deletes the target's copy; a pass that fails (its agent restarted, the link cut for a
 * moment) is run again from the bitmap the source keeps, instead of the migration starting over.
 */
class WarmFaultMatrixTest {

  static final String ENOSPC = "disk disk0: write at offset 805306368: No space left on device";
  static final String LINK_CUT = "disk disk0: read at offset 268435456: Connection reset by peer";

  /** the phases of {@link #sourceQemuDeath_beforeTheHandover_rollsBackAndTheVmStaysCrashedOnTheSource} */
  static final int SOURCE_QEMU_CELLS = 5;
  /** the phases of {@link #stagedTargetQemuDeath_beforeTheHandover_theStartAfterItIsAPlainOne} */
  static final int STAGED_QEMU_CELLS = 3;

  @TempDir static Path dir;
  static CopyFaultScene s;

  /** The phases a fault can land in, and how the scripted agents hold the migration there. */
  enum WarmCell {
    PREPARING, COPYING, SHUTTING_DOWN, FINAL_PASS, VERIFYING, DEFINING, STARTING, RELEASING, CANCELLING;

    String phase() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Holds a new migration in the phase and returns its id once it is there. */
    String hold() throws Exception {
      String p = s.path();
      switch (this) {
        case PREPARING -> s.holdCall(s.host1, "PUT " + p + "/warm-source");
        case COPYING -> s.host2.holdWarmPassFrom = 0;
        case SHUTTING_DOWN -> s.holdCall(s.host1, "POST " + p + "/warm-source/shutdown");
        case FINAL_PASS -> s.host2.holdWarmPassFrom = 1;
        // the hashes fetched with the hand-over come in FINAL_PASS: the source's fails, so VERIFYING asks again
        case VERIFYING -> {
          s.host1.failOnce = "POST " + p + "/warm-source/hashes";
          s.holdCall(s.host1, "POST " + p + "/warm-source/hashes");
        }
        // the definition went with the staged start before the shutdown: DEFINING's first call is the copy's status
        case DEFINING -> {
          s.host1.failOnce = "POST " + p + "/warm-source/hashes";
          s.holdCall(s.host1, "POST " + p + "/warm-source/hashes");
        }
        case STARTING -> s.holdCall(s.host2, "POST " + p + "/start");
        case RELEASING -> s.holdCall(s.host1, "DELETE " + p);
        case CANCELLING -> {
          s.host1.refusesPowerDown.add(s.vm);
          s.holdCall(s.host2, "DELETE /agent/warm-copies/");
        }
      }
      String id = s.startWarm();
      if (this == DEFINING) {
        s.awaitPhase(id, VERIFYING.phase());
        s.awaitHeld();
        s.holdNext(s.host2, "GET /agent/warm-copies/");
      }
      s.awaitPhase(id, phase());
      if (this == COPYING || this == FINAL_PASS) awaitPassUnderWay(id, this == COPYING ? 0 : 1);
      else s.awaitHeld();
      return id;
    }
  }

  @BeforeAll
  static void scene() throws Exception {
    FaultMatrixDoc.clear(WarmFaultMatrixTest.class);
    s = new CopyFaultScene(dir);
  }

  @AfterAll
  static void writeDoc() throws Exception {
    if (s != null) s.close();
    FaultMatrixDoc.writeIfComplete();
  }

  @BeforeEach
  void newVm() throws Exception {
    s.newVm();
  }

  @ParameterizedTest(name = "controller death in warm {0}")
  @EnumSource(WarmCell.class)
  void controllerDeath_inEveryWarmPhase(WarmCell cell) throws Exception {
    String id = cell.hold();

    s.c.restart();
    s.heartbeats();
    s.release();

    JsonNode done = s.awaitFinal(id);
    assertThat(s.c.phases(id)).contains(cell.phase());
    String outcome;
    if (cell == WarmCell.CANCELLING) {
      s.assertRolledBack(id, done, "warm-copies", "did not power off within 5 s");
      outcome = "the rollback finished by the new controller: the copy deleted on the target, the VM running on the"
          + " source only, the refusal in the reason";
    } else {
      s.assertRolledForward(id, done);
      if (cell == WarmCell.COPYING || cell == WarmCell.FINAL_PASS) assertEachPassStartedOnce(id);
      outcome = cell == WarmCell.COPYING || cell == WarmCell.FINAL_PASS
          ? "the new controller followed the same pass (persisted pass number, the source's bitmap kept), no pass run"
              + " twice: succeeded, the VM running on the target only"
          : "resumed by the new controller (each step observes before it acts): succeeded, the VM running on the"
              + " target only, the source deleted after verification";
    }
    record(cell, Fault.CONTROLLER, "controllerDeath_inEveryWarmPhase[" + cell.phase() + "]", outcome);
  }

  @ParameterizedTest(name = "source agent death in warm {0}")
  @EnumSource(WarmCell.class)
  void sourceAgentDeath_inEveryWarmPhase(WarmCell cell) throws Exception {
    String id = cell.hold();

    s.agentDies(s.host1, () -> {});

    JsonNode done = s.awaitFinal(id);
    String outcome;
    if (cell == WarmCell.CANCELLING) {
      s.assertRolledBack(id, done, "warm-copies", "did not power off within 5 s");
      outcome = "the rollback rode the restart out: the copy deleted on the target, the VM running on the source only";
    } else {
      s.assertRolledForward(id, done);
      outcome = "the agent's restart ridden out (its calls retried within the agent grace; QEMU, its NBD server and"
          + " bitmaps outlive the agent): succeeded, the VM running on the target only";
    }
    record(cell, Fault.SOURCE_AGENT, "sourceAgentDeath_inEveryWarmPhase[" + cell.phase() + "]", outcome);
  }

  /**
   * The target agent dies; as the real agent, it fails a pass that ran from its record when it
   * comes back. Before, the runner rolled the migration back on that failure (the passes started
   * over with a new migration); now it runs the same pass again.
   */
  @ParameterizedTest(name = "target agent death in warm {0}")
  @EnumSource(WarmCell.class)
  void targetAgentDeath_inEveryWarmPhase(WarmCell cell) throws Exception {
    String id = cell.hold();

    s.agentDies(s.host2, s.host2::restartFailsWarmPasses);

    JsonNode done = s.awaitFinal(id);
    String outcome;
    if (cell == WarmCell.CANCELLING) {
      s.assertRolledBack(id, done, "warm-copies", "did not power off within 5 s");
      outcome = "the rollback waited for the agent, then deleted the copy: the VM running on the source only";
    } else if (cell == WarmCell.COPYING || cell == WarmCell.FINAL_PASS) {
      s.assertRolledForward(id, done);
      int pass = cell == WarmCell.COPYING ? 0 : 1;
      assertThat(done.get("reason").asText()).as(done.toString())
          .contains("pass " + pass + " to host 'host2' failed (the agent restarted during pass " + pass + ")")
          .contains("was run again");
      assertThat(done.get("passes").asInt()).as("the passes went on, not over").isEqualTo(2);
      outcome = "the pass the restart failed (from the agent's record) was run again, not the migration: succeeded,"
          + " the reason says so, the VM running on the target only";
    } else {
      s.assertRolledForward(id, done);
      outcome = "the agent's restart ridden out (its calls retried within the agent grace): succeeded, the VM running"
          + " on the target only";
    }
    record(cell, Fault.TARGET_AGENT, "targetAgentDeath_inEveryWarmPhase[" + cell.phase() + "]", outcome);
  }

  @Test
  void linkCutForAMoment_whileCopying_thePassRunsAgainAndSucceeds() throws Exception {
    String id = WarmCell.COPYING.hold();

    s.host2.warmPassErrorOnce = true;
    s.host2.warmPassError = LINK_CUT;
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("reason").asText()).contains("pass 0 to host 'host2' failed (" + LINK_CUT + ") and was run again");
    record(WarmCell.COPYING, Fault.LINK, "linkCutForAMoment_whileCopying_thePassRunsAgainAndSucceeds",
        "the pass the cut failed was run again over the same bitmap: succeeded, the reason names the cut, the VM"
            + " running on the target only");
  }

  @Test
  void linkStaysCut_inTheFinalPass_rollsBackAndTheGuestBootsAgainOnTheSource() throws Exception {
    String id = WarmCell.FINAL_PASS.hold();

    s.host2.warmPassError = LINK_CUT;
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "pass 1 to host 'host2' failed 3 times", "Connection reset by peer");
    assertThat(s.host1.changes()).as("the source's bitmaps and exports removed").contains("DELETE " + s.path()
        + "/warm-source");
    record(WarmCell.FINAL_PASS, Fault.LINK, "linkStaysCut_inTheFinalPass_rollsBackAndTheGuestBootsAgainOnTheSource",
        "the final pass failed 3 times: rolled back with the socket error, the copy deleted on the target, the"
            + " powered-off guest booted again on the source only");
  }

  @Test
  void targetPoolFull_whilePreparing_rollsBackWithTheReason() throws Exception {
    s.host2.refuseWarmCopy = Problem.of(500, "internal error", "qemu-img create: Could not create '/pools/host2/local/"
        + s.vm + "-disk0.qcow2': No space left on device");
    String id = s.startWarm();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "No space left on device");
    assertThat(s.host2.changes()).as("no pass started").noneMatch(x -> x.endsWith("/passes"));
    record(WarmCell.PREPARING, Fault.DISK_FULL, "targetPoolFull_whilePreparing_rollsBackWithTheReason",
        "the images could not be made: rolled back with ENOSPC in the reason, nothing left on the target, the VM"
            + " running on the source only");
  }

  @Test
  void targetPoolFull_whileCopying_rollsBackWithTheReason() throws Exception {
    String id = WarmCell.COPYING.hold();

    s.host2.warmPassError = ENOSPC;
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "pass 0 to host 'host2' failed 3 times", "No space left on device");
    record(WarmCell.COPYING, Fault.DISK_FULL, "targetPoolFull_whileCopying_rollsBackWithTheReason",
        "the pass failed with ENOSPC 3 times: rolled back with the write error in the reason, the copy deleted on the"
            + " target, the VM running on the source only");
  }

  @Test
  void targetPoolFull_inTheFinalPass_rollsBackAndTheGuestBootsAgainOnTheSource() throws Exception {
    String id = WarmCell.FINAL_PASS.hold();

    s.host2.warmPassError = ENOSPC;
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "pass 1 to host 'host2' failed 3 times", "No space left on device");
    record(WarmCell.FINAL_PASS, Fault.DISK_FULL, "targetPoolFull_inTheFinalPass_rollsBackAndTheGuestBootsAgainOnTheSource",
        "rolled back with the write error in the reason: the copy deleted on the target, the powered-off guest booted"
            + " again on the source only");
  }

  /**
   * The target cannot start the VM: the QEMU staged there before the power-off exits as it starts.
   * Found while the guest still runs, so it is never powered off: rolled back, the target's
   * definition and copy removed, the reason naming the target's refusal.
   */
  @Test
  void targetQemuFailsItsStagedStart_rollsBackBeforeThePowerOff_theGuestNeverStopped() throws Exception {
    s.host2.stageFails.add(s.vm);
    String id = s.startWarm();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "host 'host2' could not start vm '" + s.vm + "'", "unsupported machine type",
        "the guest was not powered off and keeps running on host 'host1'");
    assertThat(done.path("shutdown_requested_at").isNull() || done.path("shutdown_requested_at").isMissingNode())
        .as("no shutdown requested: " + done).isTrue();
    assertSourceNever("never powered off, stopped, killed or restarted", "/shutdown", "/stop", "/kill", "/start");
    record(WarmCell.SHUTTING_DOWN, Fault.TARGET_QEMU,
        "targetQemuFailsItsStagedStart_rollsBackBeforeThePowerOff_theGuestNeverStopped",
        "the QEMU staged on the target exits as it starts, before the power button: rolled back with the target's"
            + " refusal in the reason, the guest never powered off, the target's definition and copy removed");
  }

  /**
   * The QEMU staged on the target refuses the images the final pass freed (it cannot open them):
   * found before the hand-over, so the migration rolls back; the guest, powered off for the
   * cutover, boots again in the source's QEMU, which never quit, and the target's definition and
   * copy are removed. The guest never ran on the target.
   */
  @Test
  void stagedTargetRefusesItsImages_afterTheFinalPass_rollsBackAndTheGuestBootsOnTheSource() throws Exception {
    s.host2.attachFails.add(s.vm);
    String id = s.startWarm();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "attaching the staged disks to qemu pid 4242 failed",
        "Permission denied");
    assertThat(s.host1.changes()).as("the source's QEMU kept, its guest booted again by the warm source's undo")
        .doesNotContain("POST " + s.path() + "/warm-source/finish").contains("DELETE " + s.path() + "/warm-source");
    assertThat(s.host1.vms.get(s.vm).state()).isEqualTo(dev.ferry.api.VmState.RUNNING);
    assertThat(s.host2.changes()).as("never handed over or started on the target").doesNotContain(
        "POST " + s.path() + "/start");
  }

  /** Issue 13: a guest that does not power off at the cutover keeps running; never killed. */
  @Test
  void guestRefusesToPowerOff_atTheCutover_rollsBackWithTheGuestStillRunning() throws Exception {
    s.host1.refusesPowerDown.add(s.vm);
    String id = s.startWarm();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "warm-copies", "the guest of vm '" + s.vm + "' did not power off within 5 s",
        "it keeps running on host 'host1'");
    assertSourceNever("never stopped, killed or restarted", "/stop", "/kill", "/start", "/finish");
    record(WarmCell.SHUTTING_DOWN, Fault.GUEST_REFUSES,
        "guestRefusesToPowerOff_atTheCutover_rollsBackWithTheGuestStillRunning",
        "rolled back, the reason names the timeout; the guest never killed, still running on the source, the copy"
            + " deleted on the target");
  }

  /**
   * The source's QEMU is killed after the power button was pressed, before the guest powered off:
   * the guest's page cache never reached its disks. The real agent took that exit for the guest's
   * power-off before; now it refuses the shutdown naming the pid and signal, and the migration
   * ends with no final pass and no cutover: nothing left on the target, the VM crashed on the
   * source only, its disks untouched.
   */
  @Test
  void sourceQemuKilled_afterThePowerButton_beforeTheGuestPoweredOff_noFinalPassNoCutover() throws Exception {
    s.host1.qemuDiesAtPowerButton.add(s.vm);
    String id = s.startWarm();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBackToACrashedSource(id, done, "warm-copies", "the QEMU of vm '" + s.vm + "' on host 'host1' died"
        + " during the guest's power-off: no final pass, no cutover", "before the guest powered off",
        FakeAgent.QEMU_KILLED);
    assertThat(done.path("verified").asBoolean(false)).as("nothing verified: " + done).isFalse();
    assertThat(s.host2.changes().stream().filter(x -> x.equals("POST /agent/warm-copies/" + id + "/passes")).count())
        .as("pass 0 only, no final pass").isEqualTo(1);
    assertThat(s.host2.changes()).as("staged on the target before the power button, never started there")
        .contains("POST " + s.path() + "/stage").doesNotContain("POST " + s.path() + "/start");
    assertThat(s.host1.changes()).as("the source not finished").noneMatch(x -> x.endsWith("/finish"));
    record(WarmCell.SHUTTING_DOWN, Fault.SOURCE_QEMU,
        "sourceQemuKilled_afterThePowerButton_beforeTheGuestPoweredOff_noFinalPassNoCutover",
        "the agent refuses the shutdown naming the QEMU's pid and signal: rolled back with no final pass and no"
            + " cutover, the copy deleted on the target, the VM crashed on the source only, its disks untouched");
  }

  /**
   * The source's QEMU dies (crashed): while the target prepares, mid-pass (its NBD server gone with
   * it, the target's pass fails with the socket's error), as the guest is asked to power off, in
   * the final pass over the powered-off guest, and while a rollback runs. Before the hand-over the
   * VM stays on the source as the crash left it: crashed, its disks untouched, never started again
   * (Ferry does not restart a crashed guest on its own); the target's copy deleted. A failed pass is
   * not run again over a dead source. Before, the reason did not say the QEMU had died.
   */
  @ParameterizedTest(name = "source QEMU death in warm {0}")
  @EnumSource(value = WarmCell.class, names = {"PREPARING", "COPYING", "SHUTTING_DOWN", "FINAL_PASS", "CANCELLING"})
  void sourceQemuDeath_beforeTheHandover_rollsBackAndTheVmStaysCrashedOnTheSource(WarmCell cell) throws Exception {
    String id = cell.hold();

    s.host1.qemuDies(s.vm);
    if (cell == WarmCell.COPYING || cell == WarmCell.FINAL_PASS) s.host2.warmPassError = LINK_CUT;
    s.release();

    JsonNode done = s.awaitFinal(id);
    String outcome = switch (cell) {
      case PREPARING -> {
        s.assertRolledBackToACrashedSource(id, done, "warm-copies", "vm " + s.vm + " is not running");
        yield "rolled back: the source refused to export a crashed vm; nothing left on the target, the VM crashed on"
            + " the source only, as the crash left it";
      }
      case COPYING, FINAL_PASS -> {
        int pass = cell == WarmCell.COPYING ? 0 : 1;
        s.assertRolledBackToACrashedSource(id, done, "warm-copies", "the QEMU of vm '" + s.vm + "' on host 'host1' died"
            + " during pass " + pass + " (the target read: " + LINK_CUT + ")");
        assertThat(s.host2.changes().stream().filter(x -> x.equals("POST /agent/warm-copies/" + id + "/passes"))
            .count()).as("the pass not run again over a dead source").isEqualTo(pass + 1);
        yield "rolled back, the reason names the dead QEMU and the target's read error, the pass not run again: the"
            + " copy deleted on the target, the VM crashed on the source only, as the crash left it"
            + (cell == WarmCell.FINAL_PASS ? " (not booted again: it crashed after its clean power-off)" : "");
      }
      case SHUTTING_DOWN -> {
        s.assertRolledBackToACrashedSource(id, done, "warm-copies", "has no qemu running here");
        yield "rolled back: the source has no QEMU to power off; the copy deleted on the target, the VM crashed on the"
            + " source only, as the crash left it";
      }
      case CANCELLING -> {
        s.assertRolledBackToACrashedSource(id, done, "warm-copies", "did not power off within 5 s");
        yield "the rollback went on (nothing to undo in a dead QEMU): the copy deleted on the target, the VM crashed"
            + " on the source only, both causes in the reason";
      }
      default -> throw new IllegalArgumentException(cell.phase());
    };
    record(cell, Fault.SOURCE_QEMU, "sourceQemuDeath_beforeTheHandover_rollsBackAndTheVmStaysCrashedOnTheSource["
        + cell.phase() + "]", outcome);
  }

  /**
   * The QEMU staged on the target dies between the power-off and the hand-over (it never ran the
   * guest): the cutover goes on, and the start after the hand-over is a plain one, from the
   * verified copy.
   */
  @ParameterizedTest(name = "staged target QEMU death in warm {0}")
  @EnumSource(value = WarmCell.class, names = {"FINAL_PASS", "VERIFYING", "DEFINING"})
  void stagedTargetQemuDeath_beforeTheHandover_theStartAfterItIsAPlainOne(WarmCell cell) throws Exception {
    String id = cell.hold();

    s.host2.qemuDies(s.vm);
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(s.host2.changes()).as("staged, then started").contains("POST " + s.path() + "/stage",
        "POST " + s.path() + "/start");
    assertThat(s.host2.calls).as("a plain start: nothing staged was left").doesNotContain("start staged " + s.vm);
    record(cell, Fault.TARGET_QEMU, "stagedTargetQemuDeath_beforeTheHandover_theStartAfterItIsAPlainOne["
        + cell.phase() + "]", "the cutover goes on (the dead QEMU never ran the guest): verified, handed over, and"
        + " the start after it a plain one; succeeded, the VM running on the target only");
  }

  /** Past the hand-over the target's QEMU dies at every start: the VM is the target's, stopped there. */
  @Test
  void targetQemuDies_atEveryStart_failsWithTheVmOwnedByTheTargetAndStoppedThere() throws Exception {
    s.host2.startCrashes = Integer.MAX_VALUE;
    String id = s.startWarm();

    s.assertMovedButNotStarted(id, s.awaitFinal(id));
    record(WarmCell.STARTING, Fault.TARGET_QEMU,
        "targetQemuDies_atEveryStart_failsWithTheVmOwnedByTheTargetAndStoppedThere",
        "the start tried 3 times, then failed (not retried for ever with the VM locked): the VM belongs to the target,"
            + " defined and stopped there, its copy verified and the source released; the reason says so and how to"
            + " start it");
  }

  /** The guest ran on the target: its QEMU's death there is the VM's own, the migration is done. */
  @Test
  void targetQemuDies_whileReleasing_succeedsAndTheCrashIsTheTargets() throws Exception {
    String id = WarmCell.RELEASING.hold();

    s.host2.qemuDies(s.vm);
    s.release();

    JsonNode done = s.awaitFinal(id);
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("downtime_ms").asLong()).as(done.toString()).isPositive();
    assertThat(s.host1.changes()).as("the source released").contains("DELETE " + s.path());
    s.assertOnOneHostOnly("host2", dev.ferry.api.VmState.CRASHED);
    s.assertNoLockLeft(done);
    record(WarmCell.RELEASING, Fault.TARGET_QEMU, "targetQemuDies_whileReleasing_succeedsAndTheCrashIsTheTargets",
        "rolled forward: the guest ran on the target, so its crash there is the VM's own (crashed on the target);"
            + " the source released, the VM on the target only");
  }

  /** Waits until pass {@code pass} runs on the target (held there). */
  private static void awaitPassUnderWay(String id, int pass) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(25)).until(() -> {
      WarmCopyStatus st = s.host2.warmCopies.get(id);
      return st != null && st.pass() == pass && st.state().equals(WarmCopyStatus.COPYING);
    });
  }

  private static void assertEachPassStartedOnce(String id) {
    assertThat(s.host2.changes().stream().filter(x -> x.equals("POST /agent/warm-copies/" + id + "/passes")).count())
        .as("pass 0 and the final pass started once each").isEqualTo(2);
  }

  /** No call to the source ended in one of {@code endings}. */
  private static void assertSourceNever(String what, String... endings) {
    assertThat(s.host1.changes()).as(what).noneMatch(x -> java.util.Arrays.stream(endings).anyMatch(x::endsWith));
  }

  private static void record(WarmCell cell, Fault fault, String test, String outcome) {
    CopyFaultScene.record("warm", cell.phase(), fault, "WarmFaultMatrixTest." + test, outcome);
  }
}
