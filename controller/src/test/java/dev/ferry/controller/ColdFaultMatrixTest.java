package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.controller.FaultCell.Fault;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The cold section of the fault matrix (issue 13's faults): in every phase a fault can land in,
 * the scripted agents hold the migration there, the fault strikes, and the end state is checked
 * as a user would: the record's status, phase and reason, the VM on exactly one host and running
 * there, the target's copy deleted after a rollback, the source deleted only after verification.
 * Before the point of no return (the ownership change in defining) a fault that stops the copy
 * rolls back; one the runner can ride out (an agent's restart, a controller's) does not; past it
 * the migration rolls forward. The full pool and the refusing guest are {@link ColdMigrationTest}'s
 * (named in {@link FaultCatalog}).
 */
class ColdFaultMatrixTest {

  static final String COPY_FAILED = "disk disk0: read at offset 268435456: Input/output error";

  @TempDir static Path dir;
  static CopyFaultScene s;

  /** The phases a fault can land in, and how the scripted agents hold the migration there. */
  enum ColdCell {
    SHUTTING_DOWN, EXPORTING, COPYING, VERIFYING, DEFINING, STARTING, RELEASING, CANCELLING;

    String phase() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Holds a new migration in the phase and returns its id once it is there. */
    String hold() throws Exception {
      String p = s.path();
      switch (this) {
        case SHUTTING_DOWN -> s.holdCall(s.host1, "POST " + p + "/powerdown");
        case EXPORTING -> s.holdCall(s.host1, "PUT " + p + "/cold-export");
        case COPYING -> s.host2.holdColdCopy = true;
        case VERIFYING -> s.holdCall(s.host1, "POST " + p + "/cold-export/hashes");
        case DEFINING -> s.holdCall(s.host2, "PUT " + p);
        case STARTING -> s.holdCall(s.host2, "POST " + p + "/start");
        case RELEASING -> s.holdCall(s.host1, "DELETE " + p + "/cold-export");
        case CANCELLING -> {
          s.host2.coldCopyError = COPY_FAILED;
          s.holdCall(s.host2, "DELETE /agent/cold-copies/");
        }
      }
      String id = s.startCold();
      s.awaitPhase(id, phase());
      if (this == COPYING) s.awaitCall(s.host2, "GET /agent/cold-copies/" + id);
      else s.awaitHeld();
      return id;
    }
  }

  @BeforeAll
  static void scene() throws Exception {
    FaultMatrixDoc.clear(ColdFaultMatrixTest.class);
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

  @ParameterizedTest(name = "controller death in cold {0}")
  @EnumSource(ColdCell.class)
  void controllerDeath_inEveryColdPhase(ColdCell cell) throws Exception {
    String id = cell.hold();

    s.c.restart();
    s.heartbeats();
    s.release();

    JsonNode done = s.awaitFinal(id);
    assertThat(s.c.phases(id)).contains(cell.phase());
    String outcome;
    if (cell == ColdCell.CANCELLING) {
      s.assertRolledBack(id, done, "cold-copies", "the copy to host 'host2' failed", "Input/output error");
      outcome = "the rollback finished by the new controller: the copy deleted on the target, the VM running on the"
          + " source only, the copy's error in the reason";
    } else {
      s.assertRolledForward(id, done);
      outcome = "resumed by the new controller (each step observes before it acts): succeeded, the VM running on the"
          + " target only, the source deleted after verification";
    }
    record(cell, Fault.CONTROLLER, "controllerDeath_inEveryColdPhase[" + cell.phase() + "]", outcome);
  }

  @ParameterizedTest(name = "source agent death in cold {0}")
  @EnumSource(ColdCell.class)
  void sourceAgentDeath_inEveryColdPhase(ColdCell cell) throws Exception {
    String id = cell.hold();

    s.agentDies(s.host1, () -> {});

    JsonNode done = s.awaitFinal(id);
    String outcome;
    if (cell == ColdCell.CANCELLING) {
      s.assertRolledBack(id, done, "cold-copies", "Input/output error");
      outcome = "the rollback rode the restart out: the copy deleted on the target, the VM running on the source only";
    } else {
      s.assertRolledForward(id, done);
      outcome = "the agent's restart ridden out (its calls retried within the agent grace; the export is idempotent"
          + " per migration): succeeded, the VM running on the target only";
    }
    record(cell, Fault.SOURCE_AGENT, "sourceAgentDeath_inEveryColdPhase[" + cell.phase() + "]", outcome);
  }

  @ParameterizedTest(name = "target agent death in cold {0}")
  @EnumSource(ColdCell.class)
  void targetAgentDeath_inEveryColdPhase(ColdCell cell) throws Exception {
    String id = cell.hold();

    // as the real agent: a copy that ran when it died is failed from its record on restart
    s.agentDies(s.host2, s.host2::restartFailsColdCopies);

    JsonNode done = s.awaitFinal(id);
    String outcome;
    if (cell == ColdCell.COPYING) {
      s.assertRolledBack(id, done, "cold-copies", "the copy to host 'host2' failed",
          "the agent restarted during the copy");
      assertThat(s.host2.changes().stream().filter(x -> x.startsWith("PUT /agent/cold-copies/")).count())
          .as("the copy was started once, never twice into the same images").isEqualTo(1);
      outcome = "rolled back: a copy does not survive its agent (failed from its record on restart, the reason says"
          + " so); the copy deleted, the VM powered on again on the source only";
    } else if (cell == ColdCell.CANCELLING) {
      s.assertRolledBack(id, done, "cold-copies", "Input/output error");
      outcome = "the rollback waited for the agent, then deleted the copy: the VM running on the source only";
    } else {
      s.assertRolledForward(id, done);
      outcome = "the agent's restart ridden out (its calls retried within the agent grace): succeeded, the VM running"
          + " on the target only";
    }
    record(cell, Fault.TARGET_AGENT, "targetAgentDeath_inEveryColdPhase[" + cell.phase() + "]", outcome);
  }

  /**
   * The link between the hosts is cut during the copy: the target's copier loses its NBD
   * connections and the copy fails with the socket's error (the copier's own test proves it
   * never ends short). The migration rolls back with those words.
   */
  @Test
  void linkCut_whileCopying_rollsBackWithTheCopiersWords() throws Exception {
    String id = ColdCell.COPYING.hold();

    s.host2.coldCopyError = "disk disk0: read at offset 536870912: Connection reset by peer";
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBack(id, done, "cold-copies", "the copy to host 'host2' failed", "Connection reset by peer");
    record(ColdCell.COPYING, Fault.LINK, "linkCut_whileCopying_rollsBackWithTheCopiersWords",
        "rolled back with the copier's socket error: the half-written copy deleted on the target, the VM powered on"
            + " again on the source only");
  }

  /**
   * The source QEMU dies as the guest is asked to power off (the real agent then finds no QEMU to
   * power down and answers the vm crashed; one that dies after the button was pressed ends the
   * power-off as its exit). Before, the migration failed saying the guest "did not power off
   * within 5 s", as if it still ran.
   */
  @Test
  void sourceQemuDies_asTheGuestIsAskedToPowerOff_failsSayingSoAndTheVmStaysCrashedOnTheSource() throws Exception {
    String id = ColdCell.SHUTTING_DOWN.hold();

    s.host1.qemuDies(s.vm);
    s.release();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBackToACrashedSource(id, done, "cold-copies", "the QEMU of vm '" + s.vm + "' on host 'host1' died"
        + " before its guest powered off; nothing was copied");
    assertThat(s.host2.changes()).as("nothing copied").noneMatch(x -> x.startsWith("PUT /agent/cold-copies/"));
    record(ColdCell.SHUTTING_DOWN, Fault.SOURCE_QEMU,
        "sourceQemuDies_asTheGuestIsAskedToPowerOff_failsSayingSoAndTheVmStaysCrashedOnTheSource",
        "rolled back before any copy, the reason names the dead QEMU: the VM crashed on the source only, as the crash"
            + " left it (disks untouched, never started again)");
  }

  /**
   * The source's QEMU is killed after the power button was pressed, before the guest powered off.
   * The real agent took that exit for the power-off, and the migration copied disks without the
   * guest's last writes; now the agent refuses the power-down naming the pid and signal, and
   * nothing is copied.
   */
  @Test
  void sourceQemuKilled_afterThePowerButton_beforeTheGuestPoweredOff_nothingIsCopied() throws Exception {
    s.host1.qemuDiesAtPowerButton.add(s.vm);
    String id = s.startCold();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledBackToACrashedSource(id, done, "cold-copies", "died after the power button was pressed, before the"
        + " guest powered off", FakeAgent.QEMU_KILLED);
    assertThat(s.host2.changes()).as("nothing copied").noneMatch(x -> x.startsWith("PUT /agent/cold-copies/"));
    record(ColdCell.SHUTTING_DOWN, Fault.SOURCE_QEMU,
        "sourceQemuKilled_afterThePowerButton_beforeTheGuestPoweredOff_nothingIsCopied",
        "the agent refuses the power-down naming the QEMU's pid and signal: rolled back before any copy, the VM"
            + " crashed on the source only, its disks untouched");
  }

  /** Past the hand-over the target's QEMU dies at every start: the VM is the target's, stopped there. */
  @Test
  void targetQemuDies_atEveryStart_failsWithTheVmOwnedByTheTargetAndStoppedThere() throws Exception {
    s.host2.startCrashes = Integer.MAX_VALUE;
    String id = s.startCold();

    s.assertMovedButNotStarted(id, s.awaitFinal(id));
    record(ColdCell.STARTING, Fault.TARGET_QEMU, "targetQemuDies_atEveryStart_failsWithTheVmOwnedByTheTargetAndStoppedThere",
        "the start tried 3 times, then failed (not retried for ever with the VM locked): the VM belongs to the target,"
            + " defined and stopped there, its copy verified and the source released; the reason says so and how to"
            + " start it");
  }

  @Test
  void targetQemuDies_atTheFirstStart_isStartedAgainAndSucceeds() throws Exception {
    s.host2.startCrashes = 1;
    String id = s.startCold();

    JsonNode done = s.awaitFinal(id);
    s.assertRolledForward(id, done);
    assertThat(done.get("reason").asText()).as(done.toString()).contains("the start of vm '" + s.vm
        + "' on host 'host2' failed (").contains("exited with status 1 during start").contains("was tried again");
    record(ColdCell.STARTING, Fault.TARGET_QEMU, "targetQemuDies_atTheFirstStart_isStartedAgainAndSucceeds",
        "started again: succeeded, the VM running on the target only, the failed start in the reason");
  }

  /** The guest ran on the target: its QEMU's death there is the VM's own, the migration is done. */
  @Test
  void targetQemuDies_whileReleasing_succeedsAndTheCrashIsTheTargets() throws Exception {
    String id = ColdCell.RELEASING.hold();

    s.host2.qemuDies(s.vm);
    s.release();

    JsonNode done = s.awaitFinal(id);
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("downtime_ms").asLong()).as(done.toString()).isPositive();
    assertThat(s.host1.changes()).as("the source released").contains("DELETE " + s.path());
    s.assertOnOneHostOnly("host2", dev.ferry.api.VmState.CRASHED);
    s.assertNoLockLeft(done);
    record(ColdCell.RELEASING, Fault.TARGET_QEMU, "targetQemuDies_whileReleasing_succeedsAndTheCrashIsTheTargets",
        "rolled forward: the guest ran on the target, so its crash there is the VM's own (crashed on the target);"
            + " the source released, the VM on the target only");
  }

  private static void record(ColdCell cell, Fault fault, String test, String outcome) {
    CopyFaultScene.record("cold", cell.phase(), fault, "ColdFaultMatrixTest." + test, outcome);
  }
}
