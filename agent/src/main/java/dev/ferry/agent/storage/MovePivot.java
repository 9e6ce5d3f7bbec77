package dev.ferry.agent.storage;

import static dev.ferry.agent.storage.MoveAnswers.conflict;
import static dev.ferry.agent.storage.MoveAnswers.sameQemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.block.BlockJobComplete;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The switch of a VM's disk to its new image, COPYING → PIVOTING → PIVOTED. PIVOTING is persisted
 * before the switch and is the point of no return: from there a move only rolls forward. Live,
 * the switch is QEMU's {@code block-job-complete}, preceded by a dirty bitmap on the target so a
 * later verification knows the guest's writes since; offline, the definition simply names the
 * copy. A repeated pivot observes what the last one did and finishes it.
 */
final class MovePivot {

  private static final Logger log = LoggerFactory.getLogger(MovePivot.class);
  /** fault point: PIVOTING persisted, the bitmap added, block-job-complete not yet sent */
  static final String BEFORE_PIVOT = "storage.before-pivot";

  private final MoveObserver observer;
  private final MoveRollback rollback;

  MovePivot(MoveObserver observer, MoveRollback rollback) {
    this.observer = observer;
    this.rollback = rollback;
  }

  MoveRecord pivotLive(VmHandle vm, MoveRecord r) {
    Optional<QemuProcess> p = sameQemu(vm, r);
    if (p.isEmpty()) {
      if (r.phase() == MovePhase.PIVOTING) return rollForward(vm, r);
      MoveRecord failed = rollback.fail(vm, r, "the vm stopped before the pivot; it keeps its old disk");
      throw conflict(failed, failed.error());
    }
    var q = new Qmp(p.get().qmp());
    BlockNodes target = r.targetNodes();
    Long pivotMs = null;
    try {
      if (r.phase() == MovePhase.COPYING) {
        MirrorStatus now = observer.observeLive(vm, r);
        if (now.state() == MirrorState.FAILED) throw conflict(MoveStore.read(vm.dir(), r.disk()).orElse(r), now.error());
        if (now.state() != MirrorState.READY) {
          throw conflict(r, "the mirror is not ready (copied " + now.offset() + " of " + now.length() + " bytes)");
        }
        // point of no return: from here on the move rolls forward
        r = MoveStore.write(vm.dir(), r.withProgress(now.offset(), now.length()).withPhase(MovePhase.PIVOTING));
      }
      // the bitmap first: it records every guest write to the target from before the switch on
      q.nodes().addBitmapIfMissing(target.format(), StorageMoves.BITMAP);
      FaultPoints.reach(BEFORE_PIVOT, r.vm());
      Optional<BlockJobInfo> job = q.jobs().find(r.jobId());
      if (job.isPresent() && !Jobs.concluded(job.get())) {
        long t0 = System.nanoTime();
        q.call(new BlockJobComplete(r.jobId()));
        q.jobs().awaitConcluded(r.jobId(), LiveMirror.JOB_END, LiveMirror.JOB_POLL);
        pivotMs = (System.nanoTime() - t0) / 1_000_000;
        job = q.jobs().find(r.jobId());
      }
      String jobError = job.map(Jobs::error).orElse(null);
      q.jobs().dismissIfConcluded(r.jobId());
      String node = q.nodes().ofDevice(vm.disk(r.disk()).deviceId()).orElse(null);
      if (!target.format().equals(node)) {
        MoveRecord failed = rollback.fail(vm, r, "the pivot did not switch the disk (device uses " + node + ")"
            + (jobError != null ? ": " + jobError : ""));
        throw conflict(failed, failed.error());
      }
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "pivot of disk " + r.disk() + " of vm " + r.vm() + " failed in qemu: "
          + Qmp.describe(e) + "; repeat the pivot", e);
    }
    vm.switchDisk(r.disk(), Path.of(r.targetPath()), DiskFormat.parse(r.targetFormat()), target);
    MoveRecord done = MoveStore.write(vm.dir(), r.pivoted(pivotMs != null ? pivotMs : r.pivotMs()));
    log.info("vm {}: disk {} pivoted to {} in {} ms", r.vm(), r.disk(), r.targetPath(), pivotMs);
    return done;
  }

  MoveRecord pivotOffline(VmHandle vm, MoveRecord r) {
    long t0 = System.nanoTime();
    if (r.phase() == MovePhase.COPYING) {
      MirrorStatus now = observer.observeOffline(vm, r);
      if (now.state() == MirrorState.FAILED) throw conflict(MoveStore.read(vm.dir(), r.disk()).orElse(r), now.error());
      if (now.state() != MirrorState.READY) {
        throw conflict(r, "the copy is not finished (copied " + now.offset() + " of " + now.length() + " bytes)");
      }
      r = MoveStore.write(vm.dir(), r.withProgress(r.length(), r.length()).withPhase(MovePhase.PIVOTING));
    }
    vm.switchDisk(r.disk(), Path.of(r.targetPath()), DiskFormat.parse(r.targetFormat()), null);
    OfflineCopy.forget(vm.dir(), r.disk());
    MoveRecord done = MoveStore.write(vm.dir(), r.pivoted((System.nanoTime() - t0) / 1_000_000));
    log.info("vm {}: disk {} now uses {} (offline copy)", r.vm(), r.disk(), r.targetPath());
    return done;
  }

  /**
   * Finishes a pivot whose QEMU ended during it. Past the READY of a write-blocking mirror every
   * completed guest write reached the target as well, and after {@code block-job-complete} only the
   * target: it is a superset of the source, so the move rolls forward and deletes nothing (the
   * source stays until released, as after any pivot). Only while no other QEMU runs: one started
   * on the source since would have written there alone.
   */
  static MoveRecord rollForward(VmHandle vm, MoveRecord r) {
    Optional<QemuProcess> other = vm.process();
    if (other.isPresent()) {
      throw conflict(r, "qemu pid " + r.qemuPid() + " ended during the pivot and the vm now runs as pid "
          + other.get().pid() + " on " + r.sourcePath() + "; both images are kept, nothing is deleted, and which one"
          + " holds the newest writes needs an operator");
    }
    vm.switchDisk(r.disk(), Path.of(r.targetPath()), DiskFormat.parse(r.targetFormat()), null);
    MoveRecord done = MoveStore.write(vm.dir(), r.pivotedWithoutQemu());
    log.warn("vm {}: qemu pid {} ended during the pivot of disk {}; rolled forward: the vm's definition names {} now,"
        + " {} is kept until released", r.vm(), r.qemuPid(), r.disk(), r.targetPath(), r.sourcePath());
    return done;
  }
}
