package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import java.util.Optional;

/**
 * What every step of a disk move answers: the move's {@link MirrorStatus}, or a conflict that
 * names the move; and the two look-ups every step starts from (the move's record, the QEMU its
 * job runs in).
 */
final class MoveAnswers {

  private MoveAnswers() {}

  static MirrorStatus status(MoveRecord r) {
    return status(r, r.phase().reported(), r.offset(), r.length());
  }

  static MirrorStatus status(MoveRecord r, MirrorState state, long offset, long length) {
    return new MirrorStatus(r.disk(), state, r.sourcePath(), r.sourceFormat(), r.targetPath(), r.targetFormat(), offset,
        length, r.pivotMs(), r.error());
  }

  /** The answer for a disk with no move on record. */
  static MirrorStatus none(String disk) {
    return new MirrorStatus(disk, MirrorState.NONE, null, null, null, null, 0, 0, null, null);
  }

  static AgentException conflict(MoveRecord r, String why) {
    return new AgentException(Kind.CONFLICT, "move of disk " + r.disk() + " of vm " + r.vm() + " to " + r.targetPath()
        + ": " + why);
  }

  /** The QEMU the move's job runs in, if it still runs: another pid has no such job. */
  static Optional<QemuProcess> sameQemu(VmHandle vm, MoveRecord r) {
    return vm.process().filter(p -> r.qemuPid() != null && p.pid() == r.qemuPid());
  }

  /** The move of {@code disk} on record; a conflict when there is none. */
  static MoveRecord require(VmHandle vm, String disk) {
    vm.disk(disk);
    return MoveStore.read(vm.dir(), disk).orElseThrow(() -> new AgentException(Kind.CONFLICT,
        "vm " + vm.name() + " has no move of disk " + disk + "; start one with PUT mirrors/" + disk));
  }
}
