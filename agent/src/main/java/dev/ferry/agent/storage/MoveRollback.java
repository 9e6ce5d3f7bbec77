package dev.ferry.agent.storage;

import static dev.ferry.agent.storage.MoveAnswers.sameQemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The way back of a disk move before its pivot: the failure is recorded first, then the target is
 * removed step by step (QEMU nodes and job, or the offline copy, then the file), each step best
 * effort, so the VM stays on its source. Also the one place that deletes an image a move made or
 * let go of, and never one the VM's definition names.
 */
final class MoveRollback {

  private static final Logger log = LoggerFactory.getLogger(MoveRollback.class);

  private final Pools pools;
  private final ToLongFunction<Path> freeSpace;

  MoveRollback(Pools pools, ToLongFunction<Path> freeSpace) {
    this.pools = pools;
    this.freeSpace = freeSpace;
  }

  /** Records the failure first, then removes the target (QEMU nodes, job, file). */
  MoveRecord fail(VmHandle vm, MoveRecord r, String why) {
    MoveRecord failed = MoveStore.write(vm.dir(), r.failed(why));
    log.warn("vm {}: move of disk {} to {} failed: {}", r.vm(), r.disk(), r.targetPath(), why);
    rollBack(vm, failed);
    return failed;
  }

  /** Undoes a move before its pivot, best effort step by step; the VM stays on its source. */
  void rollBack(VmHandle vm, MoveRecord r) {
    if (r.mode() == MoveRecord.Mode.LIVE) {
      sameQemu(vm, r).ifPresent(p -> LiveMirror.rollBack(new Qmp(p.qmp()), r, CancelPause.marker(vm.dir(), r.disk())));
    } else {
      OfflineCopy.stop(r);
      try {
        OfflineCopy.forget(vm.dir(), r.disk());
      } catch (AgentException e) {
        log.warn("vm {}: {}", r.vm(), e.getMessage());
      }
    }
    try {
      deleteImage(vm, Path.of(r.targetPath()));
    } catch (AgentException e) {
      log.warn("vm {}: {}", r.vm(), e.getMessage());
    }
  }

  /** Deletes an image a move made or let go of; never one the VM's definition names. */
  static void deleteImage(VmHandle vm, Path image) {
    if (vm.spec().disks().stream().anyMatch(d -> Path.of(d.path()).equals(image))) {
      log.warn("vm {}: not deleting {}: the vm uses it", vm.name(), image);
      return;
    }
    try {
      if (Files.deleteIfExists(image)) log.info("vm {}: deleted {}", vm.name(), image);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + image + ": " + e.getMessage(), e);
    }
  }

  /** Why a copy failed, with the target pool's free space when the cause was a full pool. */
  String describeFailure(MoveRecord r, String error) {
    if (!error.contains("No space left")) return "mirror to pool " + r.pool() + " failed: " + error;
    long free = pools.find(r.pool()).map(p -> freeSpace.applyAsLong(p.path())).orElse(-1L);
    return "mirror to pool " + r.pool() + " failed: " + error + " (ENOSPC: pool " + r.pool() + " is full, " + free
        + " bytes free)";
  }
}
