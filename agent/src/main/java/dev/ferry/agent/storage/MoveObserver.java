package dev.ferry.agent.storage;

import static dev.ferry.agent.storage.MoveAnswers.sameQemu;
import static dev.ferry.agent.storage.MoveAnswers.status;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.qmp.QmpException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a disk move is now: the record, plus for a copy under way what QEMU (live mirror) or
 * {@code qemu-img} (offline copy) say. Observing also settles what it finds ended: a copy that
 * failed is rolled back, a pivot whose QEMU died is rolled forward, a cleanup cut short is
 * finished.
 */
final class MoveObserver {

  private final MoveRollback rollback;

  MoveObserver(MoveRollback rollback) {
    this.rollback = rollback;
  }

  MirrorStatus observe(VmHandle vm, MoveRecord r) {
    return switch (r.phase()) {
      case PREPARING -> status(r, MirrorState.RUNNING, r.offset(), r.length());
      // the controller repeats the pivot, which finishes it; until then the copy is in sync
      case PIVOTING -> r.mode() == MoveRecord.Mode.LIVE && vm.process().isEmpty() ? status(MovePivot.rollForward(vm, r))
          : status(r, MirrorState.READY, r.length(), r.length());
      case PIVOTED, RELEASED -> status(r);
      case FAILED -> {
        if (Files.exists(Path.of(r.targetPath()))) rollback.rollBack(vm, r); // an earlier cleanup was cut short
        yield status(r);
      }
      case COPYING -> r.mode() == MoveRecord.Mode.LIVE ? observeLive(vm, r) : observeOffline(vm, r);
    };
  }

  MirrorStatus observeLive(VmHandle vm, MoveRecord r) {
    Optional<QemuProcess> p = sameQemu(vm, r);
    if (p.isEmpty()) return status(rollback.fail(vm, r, "the vm stopped during the mirror; it keeps its old disk"));
    LiveMirror.Observed seen;
    try {
      seen = LiveMirror.observe(new Qmp(p.get().qmp()), r);
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot ask qemu of vm " + r.vm() + " about job " + r.jobId() + ": "
          + Qmp.describe(e), e);
    }
    return switch (seen) {
      case LiveMirror.Observed.Copying c -> status(r, c.ready() ? MirrorState.READY : MirrorState.RUNNING, c.offset(), c.length());
      case LiveMirror.Observed.Failed f -> status(rollback.fail(vm, r, rollback.describeFailure(r, f.error())));
    };
  }

  MirrorStatus observeOffline(VmHandle vm, MoveRecord r) {
    return switch (OfflineCopy.observe(r, vm.dir())) {
      case OfflineCopy.Observed.Running run -> status(r, MirrorState.RUNNING, (long) (r.length() * run.percent() / 100), r.length());
      case OfflineCopy.Observed.Done d -> status(r, MirrorState.READY, r.length(), r.length());
      case OfflineCopy.Observed.Failed f -> status(rollback.fail(vm, r, rollback.describeFailure(r, f.error())));
    };
  }
}
