package dev.ferry.agent.storage;

import static dev.ferry.agent.storage.MoveAnswers.conflict;
import static dev.ferry.agent.storage.MoveAnswers.none;
import static dev.ferry.agent.storage.MoveAnswers.require;
import static dev.ferry.agent.storage.MoveAnswers.sameQemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.qmp.QmpException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Moves the disks of this host's VMs to other pools (the agent side of a storage migration, see
 * docs/cluster-contract.md). One move per disk at a time; its facts live in
 * {@code DIR/vms/NAME/moves/DISK.json}, written before each step's side effects, and the copy
 * itself lives in QEMU (a mirror job of the running VM) or in a background {@code qemu-img
 * convert} (VM stopped). So an agent restarted mid-move answers from the file plus what it
 * observes, and every step, repeated, finishes what it began or reports what it did.
 *
 * <p>Locking: steps that change something run under the VM's action lock (no start or stop in
 * between) and then this disk's lock; a status read and a verification take only the disk's lock,
 * so a read never waits for a long stop and a stop or kill never waits for a verification. Every
 * lock is waited for with a deadline.
 *
 * <p>This class is the endpoints and their locking; the steps live beside it: {@link MoveStart}
 * (PREPARING → COPYING), {@link MoveObserver} (what a move is now), {@link MovePivot} (the switch
 * and the roll forward past it) and {@link MoveRollback} (the way back before it).
 */
public final class StorageMoves {

  private static final Logger log = LoggerFactory.getLogger(StorageMoves.class);
  static final String BITMAP = "ferry-verify";
  static final Pattern SUFFIX = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  static final String SUFFIX_RULE = "1-32 lower-case letters, digits and '-', starting with a letter or digit";
  /** how long a step waits for another step of the same disk's move */
  static final Duration DISK_WAIT = Duration.ofSeconds(30);

  private final Vms vms;
  private final QemuImg img;
  private final ExportReader.Opener exports;
  private final MoveRollback rollback;
  private final MoveObserver observer;
  private final MovePivot pivots;
  private final MoveStart starts;
  private final RateLoop rates = new RateLoop();
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  public StorageMoves(Vms vms, Pools pools, Path qemuImg) {
    this(vms, pools, qemuImg, StorageMoves::usableSpace, NbdExports::open);
  }

  StorageMoves(Vms vms, Pools pools, Path qemuImg, ToLongFunction<Path> freeSpace, ExportReader.Opener exports) {
    this.vms = vms;
    this.img = new QemuImg(qemuImg, pools::handOver);
    this.exports = exports;
    this.rollback = new MoveRollback(pools, freeSpace);
    this.observer = new MoveObserver(rollback);
    this.pivots = new MovePivot(observer, rollback);
    this.starts = new MoveStart(pools, img, freeSpace, rollback, observer, rates);
  }

  /** The answer of {@link #mirror}: the move, and whether this call started it. */
  public record Started(MirrorStatus status, boolean created) {}

  /** {@code PUT mirrors/DISK}: starts moving the disk, or reports the move already known. */
  public Started mirror(String vmName, String disk, MirrorRequest req) {
    if (req == null) throw AgentException.badInput("body", null, "a mirror request");
    if (req.pool() == null || req.pool().isBlank()) throw AgentException.badInput("pool", req.pool(), "the name of a pool of this host");
    String format = req.format() == null ? null : req.format().toLowerCase(Locale.ROOT);
    if (format != null && !format.equals("qcow2") && !format.equals("raw")) {
      throw AgentException.badInput("format", req.format(), "qcow2 or raw");
    }
    if (req.bandwidthBytesPerS() < 0) {
      throw AgentException.badInput("bandwidth_bytes_per_s", Long.toString(req.bandwidthBytesPerS()), "0 (no cap) or more");
    }
    if (req.adaptiveRate() && req.bandwidthBytesPerS() > 0) {
      throw AgentException.badInput("adaptive_rate", "true", "false with a fixed bandwidth_bytes_per_s (the adaptive"
          + " rate sets the speed itself)");
    }
    if (req.suffix() != null && !SUFFIX.matcher(req.suffix()).matches()) {
      throw AgentException.badInput("suffix", req.suffix(), SUFFIX_RULE);
    }
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> starts.begin(vm, vm.disk(disk), req, format))));
  }

  /** {@code GET mirrors/DISK} */
  public MirrorStatus status(String vmName, String disk) {
    VmHandle vm = vms.peek(vmName);
    vm.disk(disk);
    return locked(vm, disk, () -> withLogContext(vm, disk, () ->
        MoveStore.read(vm.dir(), disk).map(r -> {
          MirrorStatus s = observer.observe(vm, r);
          if (s.state() == MirrorState.RUNNING) resumeRate(vm, r);
          return s;
        }).orElseGet(() -> none(disk))));
  }

  /** {@code POST mirrors/DISK/pivot}: the VM switches to the target; its definition names it from now on. */
  public MirrorStatus pivot(String vmName, String disk) {
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> {
      MoveRecord r = require(vm, disk);
      return switch (r.phase()) {
        case PIVOTED, RELEASED -> MoveAnswers.status(r); // done before: answer what was recorded
        case FAILED -> throw conflict(r, "it failed: " + r.error());
        case PREPARING -> throw conflict(r, "the copy has not started yet");
        case COPYING, PIVOTING -> MoveAnswers.status(r.mode() == MoveRecord.Mode.LIVE ? pivots.pivotLive(vm, r) : pivots.pivotOffline(vm, r));
      };
    })));
  }

  /** {@code POST mirrors/DISK/verify}: the target against the source as of the pivot. Answered once, then repeated. */
  public VerifyResult verify(String vmName, String disk) {
    // off the action lock: a verification reads for minutes, and a stop or kill must not wait for it
    VmHandle vm = vms.peek(vmName);
    return locked(vm, disk, () -> withLogContext(vm, disk, () -> {
      MoveRecord r = require(vm, disk);
      if (r.verify() != null) return r.verify();
      if (r.phase() != MovePhase.PIVOTED) throw conflict(r, "verification needs a pivoted move whose source is not released");
      VerifyResult result;
      if (r.rolledForward()) {
        throw conflict(r, "qemu ended during the pivot and the move was rolled forward without it: the new image holds"
            + " every write the guest completed, the old one lacks those after the pivot, so the two cannot be compared;"
            + " release the old image when satisfied");
      }
      if (r.mode() == MoveRecord.Mode.LIVE) {
        QemuProcess p = sameQemu(vm, r).orElseThrow(() -> conflict(r,
            "the vm was stopped or restarted since the pivot, so the writes since then are unknown"));
        result = LiveVerify.run(new Qmp(p.qmp()), r, vm.runDir(), exports);
      } else {
        result = verifyOffline(r);
      }
      MoveStore.write(vm.dir(), r.withVerify(result));
      log.info("vm {}: disk {} verified: ok={} compared={} rewritten={} mismatched={} first={} ({} ms)", r.vm(), r.disk(),
          result.ok(), result.comparedBytes(), result.rewrittenBytes(), result.mismatchedBytes(),
          result.firstMismatchOffset(), result.elapsedMs());
      return result;
    }));
  }

  /** {@code POST mirrors/DISK/release}: lets go of the source (QEMU nodes, and the image unless kept). */
  public MirrorStatus release(String vmName, String disk, boolean keepSource) {
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> {
      MoveRecord r = require(vm, disk);
      if (r.phase() == MovePhase.RELEASED) return MoveAnswers.status(r);
      if (r.phase() != MovePhase.PIVOTED) throw conflict(r, "only a pivoted move can release its source");
      if (r.mode() == MoveRecord.Mode.LIVE) {
        sameQemu(vm, r).ifPresent(p -> {
          var q = new Qmp(p.qmp());
          try {
            q.nodes().removeBitmapIfPresent(r.targetNodes().format(), BITMAP);
          } catch (QmpException e) {
            log.warn("vm {}: cannot remove bitmap {}: {}", r.vm(), BITMAP, Qmp.describe(e));
          }
          LiveMirror.deleteNodes(q, r, r.sourceNodes());
          var left = q.nodes().names();
          if (left.contains(r.sourceNodes().format()) || left.contains(r.sourceNodes().file())) {
            throw new AgentException(Kind.UNAVAILABLE, "qemu still holds the source nodes of disk " + r.disk()
                + " of vm " + r.vm() + " (" + r.sourceNodes() + "); repeat the release");
          }
        });
      }
      if (!keepSource) MoveRollback.deleteImage(vm, Path.of(r.sourcePath()));
      MoveRecord released = MoveStore.write(vm.dir(), r.released(keepSource));
      log.info("vm {}: disk {} released its source {}{}", r.vm(), r.disk(), r.sourcePath(), keepSource ? " (kept)" : " (deleted)");
      return MoveAnswers.status(released);
    })));
  }

  /** {@code POST mirrors/DISK/cancel}: before the pivot only; the VM stays on its source. */
  public MirrorStatus cancel(String vmName, String disk) {
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> {
      vm.disk(disk);
      Optional<MoveRecord> found = MoveStore.read(vm.dir(), disk);
      if (found.isEmpty()) return none(disk);
      MoveRecord r = found.get();
      if (!r.phase().cancellable()) {
        throw conflict(r, "it is " + r.phase().name().toLowerCase(Locale.ROOT) + ", past the point of no return; only "
            + "a move before its pivot can be cancelled");
      }
      rollback.rollBack(vm, r);
      MoveStore.delete(vm.dir(), disk);
      log.info("vm {}: move of disk {} to {} cancelled; the vm keeps {}", r.vm(), r.disk(), r.targetPath(), r.sourcePath());
      return none(disk);
    })));
  }

  /** The start guard: a VM whose disk is being copied offline must not write to the source. */
  public void checkStart(String vmName) {
    VmHandle vm = vms.peek(vmName);
    for (MoveRecord r : MoveStore.all(vm.dir())) {
      if (r.mode() == MoveRecord.Mode.LIVE && r.phase() == MovePhase.PIVOTING && vm.process().isEmpty()) {
        // a pivot cut short by QEMU's death: boot from the target, never let the source take writes alone
        locked(vm, r.disk(), () -> withLogContext(vm, r.disk(), () -> MoveStore.read(vm.dir(), r.disk())
            .filter(now -> now.phase() == MovePhase.PIVOTING).map(now -> MovePivot.rollForward(vm, now)).orElse(r)));
        continue;
      }
      if (r.mode() == MoveRecord.Mode.OFFLINE && r.phase().inFlight() && r.phase() != MovePhase.PIVOTED) {
        throw new AgentException(Kind.CONFLICT, "vm " + vmName + " cannot start: disk " + r.disk() + " is being moved to "
            + r.targetPath() + " (" + r.phase().name().toLowerCase(Locale.ROOT) + "); pivot or cancel the move first");
      }
    }
  }

  /** An agent restarted during an adaptive mirror takes up its rate again, from the recorded baseline. */
  private void resumeRate(VmHandle vm, MoveRecord r) {
    if (!r.adaptiveRate() || r.phase() != MovePhase.COPYING) return;
    sameQemu(vm, r).ifPresent(p -> rates.ensure(new Qmp(p.qmp()), r, vm.disk(r.disk()).deviceId()));
  }

  private VerifyResult verifyOffline(MoveRecord r) {
    long t0 = System.nanoTime();
    long first = img.compare(Path.of(r.sourcePath()), r.sourceFormat(), Path.of(r.targetPath()), r.targetFormat());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // qemu-img compare stops at the first difference: one sector is all it can vouch for
    return first < 0 ? new VerifyResult(true, r.length(), 0, 0, null, ms)
        : new VerifyResult(false, r.length(), 0, 512, first, ms);
  }

  /** Runs {@code step} alone on this disk's move, waiting at most {@link #DISK_WAIT} for the step under way. */
  private <T> T locked(VmHandle vm, String disk, Supplier<T> step) {
    ReentrantLock lock = locks.computeIfAbsent(vm.name() + "/" + disk, k -> new ReentrantLock());
    boolean got;
    try {
      got = lock.tryLock(DISK_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted waiting for the move of disk " + disk + " of vm " + vm.name(), e);
    }
    if (!got) {
      throw new AgentException(Kind.CONFLICT, "the move of disk " + disk + " of vm " + vm.name() + " is busy with another"
          + " step (a verification reads the whole disk); gave up waiting after " + DISK_WAIT.toMillis() + " ms");
    }
    try {
      return step.get();
    } finally {
      lock.unlock();
    }
  }

  private static <T> T withLogContext(VmHandle vm, String disk, Supplier<T> step) {
    try (var a = MDC.putCloseable("vm", vm.name()); var b = MDC.putCloseable("disk", disk)) {
      return step.get();
    }
  }

  private static long usableSpace(Path dir) {
    try {
      return Files.getFileStore(dir).getUsableSpace();
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot read the free space of " + dir + ": " + e.getMessage(), e);
    }
  }
}
