package dev.ferry.controller;

import dev.ferry.controller.FaultCell.Fault;
import dev.ferry.controller.FaultCell.Level;
import dev.ferry.controller.migration.PhaseTable.Row;
import java.util.List;

/**
 * What docs/faults.md knows without this module's run: the cells other tests prove (the
 * scripted fault-rule tests of this module, and the real-QEMU tests of the agent and app modules,
 * named by reading them), and the cells where a fault cannot happen, with the reason.
 */
final class FaultCatalog {

  private FaultCatalog() {}

  static final List<FaultCell> OTHER_TESTS = List.of(
      // scripted, this module
      new FaultCell("live", "migrating", Fault.LINK,
          "LiveMigrationFaultRulesTest.streamStopsMovingUnderPostcopyAuto_rollsBackWithTheReasonAndNeverSwitches",
          Level.SCRIPTED, "rolled back: stalled stream detected, never switched to post-copy, VM stays on the source"),
      new FaultCell("live", "cancelling", Fault.SOURCE_AGENT,
          "LiveMigrationFaultRulesTest.rollbackWithTheSourceUnknown_keepsBothSidesUntilTheSourceAnswers",
          Level.SCRIPTED, "stuck, both sides kept until the source answers, then rolled back; nothing deleted on a guess"),
      new FaultCell("live", "transferring", Fault.SOURCE_AGENT,
          "LiveMigrationFaultRulesTest.completeFailsPastThePointOfNoReturn_staysRunningStuckAcrossARestartAndFinishes",
          Level.SCRIPTED, "stays running (stuck), survives a restart, succeeds once the source answers; never rolled back"),
      new FaultCell("live", "postcopy", Fault.LINK,
          "PostcopyRecoveryTest.postcopyStreamBreaks_targetListensAgainAndTheSourceResumesThere_succeedsCountingTheRecovery",
          Level.SCRIPTED, "post-copy recovered on a new stream, succeeded; the source never resumed"),
      new FaultCell("live", "postcopy", Fault.TARGET_QEMU,
          "PostcopyRecoveryTest.postcopyPausedAndTheTargetQemuGone_failsSayingTheNewestStateIsLost_neverRollsBack",
          Level.SCRIPTED, "LOST (post-copy's opt-in risk): the newest state died with the target; reported, never rolled back"),
      new FaultCell("live", "postcopy", Fault.SOURCE_QEMU,
          "LiveMigrationFaultRulesTest.postcopyBreaksOnTheSource_endsLostWithoutCancelOrDelete",
          Level.SCRIPTED, "LOST (post-copy's opt-in risk): neither host holds the whole guest; reported, nothing resumed or deleted"),
      new FaultCell("storage", "mirroring", Fault.DISK_FULL,
          "StorageMigrationTest.storage_targetFillsUp_failsWithTheReasonAndTheVmKeepsItsDisk",
          Level.SCRIPTED, "rolled back with the agent's ENOSPC reason, mirror cancelled, the VM keeps its old disk"),
      new FaultCell("cold", "copying", Fault.DISK_FULL,
          "ColdMigrationTest.cold_targetPoolFullDuringTheCopy_failsExplainedAndLeavesNothingOnHost2", Level.SCRIPTED,
          "rolled back with the write error (ENOSPC) in the reason: the copy deleted, nothing defined on the target,"
              + " the VM running again on the source only"),
      new FaultCell("cold", "shutting_down", Fault.GUEST_REFUSES,
          "ColdMigrationTest.cold_guestIgnoresThePowerButton_failsWithTheVmStillRunningOnTheSource", Level.SCRIPTED,
          "failed before any copy, the reason names the timeout; the guest never killed, still running on the source,"
              + " nothing asked of the target"),
      // real QEMU: the agent's own fault tests
      new FaultCell("storage", "pivoting", Fault.SOURCE_QEMU,
          "AgentFaultsIT.pivot_qemuKilledDuringIt_vmBootsFromTheNewImageAndNothingIsDeleted",
          Level.REAL_QEMU, "rolled forward: the VM boots from the new image, disk check clean, old image kept"),
      new FaultCell("storage", "mirroring", Fault.SOURCE_QEMU,
          "AgentFaultsIT.kill_duringMirror_answersPromptlyAndTheMoveLeavesNoImage",
          Level.REAL_QEMU, "the move ends, no new image left; the VM stopped as killed"),
      new FaultCell("live", "migrating", Fault.SOURCE_QEMU,
          "AgentFaultsIT.kill_sourceDuringLiveMigration_answersPromptlyEndsTheMigrationAndLeavesNothing",
          Level.REAL_QEMU, "the migration ends failed, no QEMU, lock or image left; the VM on exactly one host"),
      new FaultCell("live", "migrating", Fault.TARGET_QEMU,
          "AgentFaultsIT.kill_targetDuringLiveMigration_rollsTheArrivalBackAndTheSourceKeepsRunning",
          Level.REAL_QEMU, "the arrival rolled back, the source keeps running"),
      new FaultCell("warm", "copying", Fault.LINK,
          "WarmPassFaultsIT.linkCutMidPass_failsSayingSoNeverShort_thenTheSamePassCopiesEverything", Level.REAL_QEMU,
          "the agent's copier from a real qemu-nbd behind a cut TCP link: the pass fails saying so, never reported"
              + " copied short (qemu-img compare differs); the same pass run again makes the copy equal"),
      new FaultCell("warm", "copying", Fault.LINK,
          "WarmPassFaultsIT.overTls_linkCutMidPass_failsSayingSoNeverShort_thenTheSamePassCopiesEverything",
          Level.REAL_QEMU, "the same over TLS, as every enrolled cluster copies (qemu-nbd with tls-creds-x509 and"
              + " verify-peer=on, the agent's node certificate): the pass fails saying the server hung up, never"
              + " reported short, the kept hashes untouched; the same pass then copies everything"),
      new FaultCell("warm", "copying", Fault.TARGET_AGENT,
          "WarmPassFaultsIT.agentKilledMidPass_theNewAgentFailsThePassFromItsRecordAndRunsTheSamePassAgain",
          Level.REAL_QEMU, "what SIGKILL leaves (record copying, image half written): the next agent fails the pass"
              + " from DATA/warm/copies/ID.json and runs the same pass into the same image, equal to the source"),
      new FaultCell("warm", "shutting_down", Fault.SOURCE_QEMU,
          "PowerOffDeathIT.warm_qemuKilledDuringThePowerOff_isRefusedNamingPidAndSignal_andTheVmIsCrashed",
          Level.REAL_QEMU, "the agent's side: a QEMU SIGKILLed under the power button, its guest not powered off, is"
              + " no power-off: the shutdown refused naming the pid and signal, the vm crashed, its disk untouched"),
      new FaultCell("cold", "shutting_down", Fault.SOURCE_QEMU,
          "PowerOffDeathIT.cold_qemuTerminatedDuringThePowerDown_isRefusedNamingPidAndSignal_andTheVmIsCrashed",
          Level.REAL_QEMU, "the agent's side: a QEMU SIGTERMed under the power button (it reports SHUTDOWN host-signal"
              + " and exits 0) is no power-off: the power-down refused naming the pid and QEMU's signal line, the vm"
              + " crashed"),
      // real QEMU: the app's fault tests through the CLI
      new FaultCell("live", "transferring", Fault.SOURCE_AGENT,
          "LiveMigrationStuckIT.sourceAgentKilledBeforeComplete_thenTheController_migrationStaysRunningAndFinishesOnTheTarget",
          Level.REAL_QEMU, "stays running (stuck) while the source agent is dead, rolled forward: the VM on the target only"),
      new FaultCell("live", "transferring", Fault.CONTROLLER,
          "LiveMigrationStuckIT.sourceAgentKilledBeforeComplete_thenTheController_migrationStaysRunningAndFinishesOnTheTarget",
          Level.REAL_QEMU, "the controller SIGKILLed while stuck; after cluster up rolled forward, no lock left"),
      new FaultCell("live", "migrating", Fault.CONTROLLER,
          "LiveMigrationFaultsIT.controllerKilledWhileMigrating_clusterUpAgain_rolledBackAndTheVmRunsOnExactlyOneHost",
          Level.REAL_QEMU, "rolled back after the restart; the VM runs on exactly one host"),
      new FaultCell("live", "postcopy", Fault.LINK,
          "LinkAndAgentFaultsIT.postcopy_linkCutWhileSplit_neverReportsSuccessUntilRecoveredThenTheGuestIsWhole",
          Level.REAL_QEMU, "never reported a success while split; recovered, the guest whole"),
      new FaultCell("live", "migrating", Fault.LINK,
          "LinkAndAgentFaultsIT.precopy_linkCut_stallDetectedRolledBackAndTheGuestNeverStopsOnTheSource",
          Level.REAL_QEMU, "nothing final while host2 was cut off; rolled back once it was back, the guest never stopped"),
      new FaultCell("live", "migrating", Fault.TARGET_AGENT,
          "LinkAndAgentFaultsIT.targetAgentKilledWhileMigrating_thenRestarted_theVmRunsOnExactlyOneHost",
          Level.REAL_QEMU, "still running while the agent was dead; then rolled back, the VM on exactly one host"),
      new FaultCell("live", "migrating", Fault.SOURCE_AGENT,
          "LinkAndAgentFaultsIT.sourceAgentKilledWhileMigrating_thenRestarted_theVmRunsOnExactlyOneHost",
          Level.REAL_QEMU, "still running while the agent was dead; then rolled back, the VM on exactly one host"),
      new FaultCell("live", "resuming_target", Fault.TARGET_QEMU,
          "LiveMigrationStuckIT.targetQemuKilledBeforeItRanTheGuest_theSourceResumesItsCompleteCopy",
          Level.REAL_QEMU, "rolled back: the completed source resumed its copy; same boot, self-checks clean"),
      new FaultCell("live", "migrating", Fault.DISK_FULL,
          "LiveMigrationIT.migrateLive_copyStorageIntoAFullPool_rolledBackTheVmKeepsItsDiskAndCanMoveLater",
          Level.REAL_QEMU, "ENOSPC named, rolled back; the VM keeps its disk, no image or lock left"));

  /** Why a fault cannot happen in a phase, or null when it can. */
  static String notApplicable(String kind, Row row, Fault fault) {
    if (row.isFinal()) return "final: nothing is under way";
    if (kind.equals("cold") || kind.equals("warm")) return copyNotApplicable(kind, row.phase(), fault);
    if (fault == Fault.GUEST_REFUSES) return "a " + kind + " migration never powers the guest off: nothing to refuse";
    boolean storage = kind.equals("storage");
    if (storage && (fault == Fault.TARGET_AGENT || fault == Fault.TARGET_QEMU)) {
      return "one host: the target agent and QEMU are the source's (see those columns)";
    }
    if (storage && fault == Fault.LINK) return "the copy stays on one host; no link is crossed";
    if (row.phase().equals("pending") || storage && row.phase().equals("ready")) {
      return "no window: the phase makes no agent call and does not wait, the runner leaves it at once"
          + " (a restart landing there follows the phase's recovery rule)";
    }
    if (!storage && fault == Fault.DISK_FULL
        && List.of("resuming_target", "transferring", "cancelling").contains(row.phase())) {
      return "nothing is written to a target pool in this phase (and a shared-storage migration writes none at all)";
    }
    if (!storage && fault == Fault.DISK_FULL && row.phase().equals("postcopy")) {
      return "the copied disks' mirrors end at the switch (pause-before-switchover); from then on only memory crosses,"
          + " and a full pool is the guest's own write error on the target, which already runs it";
    }
    if (!storage && fault == Fault.LINK && List.of("resuming_target", "transferring").contains(row.phase())) {
      return "the stream has completed: nothing crosses between the hosts any more (the controller reaches each agent"
          + " on its own link, see the agent-death columns)";
    }
    if (storage && fault == Fault.DISK_FULL && List.of("verifying", "releasing").contains(row.phase())) {
      return "after the pivot the move writes nothing to the new pool (verification reads both images, release deletes"
          + " the old one); a full pool is then the guest's own write error on its new disk";
    }
    if (storage && fault == Fault.DISK_FULL && row.phase().equals("cancelling")) {
      return "the rollback only cancels the mirror jobs and deletes the new images: it frees the pool, writes nothing";
    }
    return null;
  }

  /** Cold and warm migration: a host-to-host copy, then a cutover by shutdown and boot. */
  private static String copyNotApplicable(String kind, String phase, Fault fault) {
    boolean warm = kind.equals("warm");
    if (phase.equals("pending")) {
      return "no window: the phase makes no agent call but the vm's status and does not wait, the runner leaves it"
          + " at once (a restart landing there follows the phase's recovery rule)";
    }
    List<String> copies = warm ? List.of("copying", "final_pass") : List.of("copying");
    return switch (fault) {
      case GUEST_REFUSES -> phase.equals("shutting_down") ? null
          : "the guest is asked to power off only in shutting_down" + (warm ? "" : " (and only with --shutdown)");
      case LINK -> copies.contains(phase) ? null
          : "nothing crosses between the hosts in this phase (each host works on its own disks; the controller"
              + " reaches each agent on its own link, see the agent-death columns)";
      case DISK_FULL -> copies.contains(phase) || warm && phase.equals("preparing") ? null : switch (phase) {
        case "shutting_down", "exporting" -> "nothing is written to the target pool yet";
        case "verifying" -> "hashing only reads the copies";
        case "defining" -> "the copy is complete; a definition is written to the agent's data directory, not the pool";
        case "starting", "releasing" -> "past the point of no return the copy is complete: a full pool is then the"
            + " guest's own write error on the target, which runs it (releasing deletes on the source)";
        case "cancelling" -> "the rollback deletes the target's images: it frees the pool, writes nothing";
        default -> null;
      };
      case TARGET_QEMU -> (warm ? List.of("shutting_down", "final_pass", "verifying", "defining", "starting", "releasing")
          : List.of("starting", "releasing")).contains(phase) ? null
          : warm && phase.equals("cancelling") ? "the rollback kills a QEMU staged on the target with the target's"
              + " definition: one that died first leaves less to remove"
          : warm ? "no QEMU runs on the target before shutting_down stages one: the copy is written by the agent's copier"
          : "no QEMU runs on the target before starting: the copy is written by the agent's copier";
      case SOURCE_QEMU -> warm ? (List.of("verifying", "defining", "starting", "releasing").contains(phase)
          ? "the source QEMU quit at the end of the final pass" : null)
          : phase.equals("shutting_down") ? null
          : "the guest is off: no QEMU runs on the source (the export is a qemu-storage-daemon, whose loss the target"
              + " sees as a cut link)";
      case CONTROLLER, SOURCE_AGENT, TARGET_AGENT -> null;
    };
  }
}
