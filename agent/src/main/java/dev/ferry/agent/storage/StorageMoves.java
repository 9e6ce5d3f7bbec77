package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.block.BlockJobComplete;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 */
public final class StorageMoves {

  private static final Logger log = LoggerFactory.getLogger(StorageMoves.class);
  /** free space a target pool must have beyond the source's allocated bytes */
  static final long SPACE_MARGIN = 64L << 20;
  static final String BITMAP = "ferry-verify";
  static final Pattern SUFFIX = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
  static final String SUFFIX_RULE = "1-32 lower-case letters, digits and '-', starting with a letter or digit";
  /** QEMU node names are at most 31 characters */
  static final int MAX_NODE_NAME = 31;
  /** fault point: PIVOTING persisted, the bitmap added, block-job-complete not yet sent */
  static final String BEFORE_PIVOT = "storage.before-pivot";
  /** how long a step waits for another step of the same disk's move */
  static final Duration DISK_WAIT = Duration.ofSeconds(30);

  private final Vms vms;
  private final Pools pools;
  private final QemuImg img;
  private final ToLongFunction<Path> freeSpace;
  private final ExportReader.Opener exports;
  private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();

  public StorageMoves(Vms vms, Pools pools, Path qemuImg) {
    this(vms, pools, qemuImg, StorageMoves::usableSpace, NbdExports::open);
  }

  StorageMoves(Vms vms, Pools pools, Path qemuImg, ToLongFunction<Path> freeSpace, ExportReader.Opener exports) {
    this.vms = vms;
    this.pools = pools;
    this.img = new QemuImg(qemuImg);
    this.freeSpace = freeSpace;
    this.exports = exports;
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
    if (req.suffix() != null && !SUFFIX.matcher(req.suffix()).matches()) {
      throw AgentException.badInput("suffix", req.suffix(), SUFFIX_RULE);
    }
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> begin(vm, vm.disk(disk), req, format))));
  }

  /** {@code GET mirrors/DISK} */
  public MirrorStatus status(String vmName, String disk) {
    VmHandle vm = vms.peek(vmName);
    vm.disk(disk);
    return locked(vm, disk, () -> withLogContext(vm, disk, () ->
        MoveStore.read(vm.dir(), disk).map(r -> observe(vm, r)).orElseGet(() -> none(disk))));
  }

  /** {@code POST mirrors/DISK/pivot}: the VM switches to the target; its definition names it from now on. */
  public MirrorStatus pivot(String vmName, String disk) {
    return vms.withVm(vmName, vm -> locked(vm, disk, () -> withLogContext(vm, disk, () -> {
      MoveRecord r = require(vm, disk);
      return switch (r.phase()) {
        case PIVOTED, RELEASED -> status(r); // done before: answer what was recorded
        case FAILED -> throw conflict(r, "it failed: " + r.error());
        case PREPARING -> throw conflict(r, "the copy has not started yet");
        case COPYING, PIVOTING -> status(r.mode() == MoveRecord.Mode.LIVE ? pivotLive(vm, r) : pivotOffline(vm, r));
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
      if (r.phase() == MovePhase.RELEASED) return status(r);
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
      if (!keepSource) deleteImage(vm, Path.of(r.sourcePath()));
      MoveRecord released = MoveStore.write(vm.dir(), r.released(keepSource));
      log.info("vm {}: disk {} released its source {}{}", r.vm(), r.disk(), r.sourcePath(), keepSource ? " (kept)" : " (deleted)");
      return status(released);
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
      rollBack(vm, r);
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
            .filter(now -> now.phase() == MovePhase.PIVOTING).map(now -> rollForward(vm, now)).orElse(r)));
        continue;
      }
      if (r.mode() == MoveRecord.Mode.OFFLINE && r.phase().inFlight() && r.phase() != MovePhase.PIVOTED) {
        throw new AgentException(Kind.CONFLICT, "vm " + vmName + " cannot start: disk " + r.disk() + " is being moved to "
            + r.targetPath() + " (" + r.phase().name().toLowerCase(Locale.ROOT) + "); pivot or cancel the move first");
      }
    }
  }

  // ---- steps

  private Started begin(VmHandle vm, DiskSpec disk, MirrorRequest req, String format) {
    Optional<MoveRecord> known = MoveStore.read(vm.dir(), disk.id());
    String wanted = format != null ? format : disk.format().driver();
    if (known.isPresent()) {
      MoveRecord r = known.get();
      boolean same = r.pool().equals(req.pool()) && r.targetFormat().equals(wanted)
          && (req.suffix() == null || req.suffix().equals(r.suffix()));
      if (r.phase().inFlight()) {
        if (!same) {
          throw conflict(r, "it is in flight (" + r.phase().name().toLowerCase(Locale.ROOT) + "); cancel it or let it finish"
              + " before moving the disk to pool " + req.pool());
        }
        return new Started(r.phase() == MovePhase.PREPARING ? status(prepare(vm, r)) : observe(vm, r), false);
      }
      if (same && req.suffix() != null) return new Started(observe(vm, r), false);
    }
    Pool pool = pools.get(req.pool());
    String suffix = req.suffix() != null ? req.suffix() : Long.toString(System.currentTimeMillis() / 1000, 36);
    Path target = pool.path().resolve(vm.name() + "-" + disk.id() + "-" + suffix + "." + wanted);
    Path source = Path.of(disk.path());
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new AgentException(Kind.CONFLICT, "cannot move disk " + disk.id() + " of vm " + vm.name() + " to " + target
          + ": the file exists; use another suffix");
    }
    QemuImg.Info info = img.info(source, disk.format().driver());
    long needed = info.actualSize() + SPACE_MARGIN;
    long free = freeSpace.applyAsLong(pool.path());
    if (free < needed) {
      throw new AgentException(Kind.INSUFFICIENT, "pool " + pool.name() + " (" + pool.path() + ") has " + free
          + " bytes free; moving disk " + disk.id() + " of vm " + vm.name() + " needs " + needed + " bytes ("
          + info.actualSize() + " allocated + " + SPACE_MARGIN + " margin)");
    }
    Optional<QemuProcess> qemu = vm.process();
    boolean live = qemu.isPresent();
    var r = new MoveRecord(vm.name(), disk.id(), suffix, live ? MoveRecord.Mode.LIVE : MoveRecord.Mode.OFFLINE,
        MovePhase.PREPARING, pool.name(), req.bandwidthBytesPerS(), source.toString(), disk.format().driver(),
        live ? vm.nodes(disk) : null, target.toString(), wanted, live ? targetNodes(disk.id(), suffix) : null,
        "move-" + disk.id(), live ? qemu.get().pid() : null, null, 0, info.virtualSize(), null, null, null, false,
        Instant.now(), false);
    MoveStore.write(vm.dir(), r);
    log.info("vm {}: moving disk {} ({}, {}) to pool {} as {} ({}, {})", vm.name(), disk.id(), source,
        disk.format().driver(), pool.name(), target, wanted, live ? "live mirror" : "offline copy");
    return new Started(status(prepare(vm, r)), true);
  }

  /** PREPARING → COPYING: creates whatever of the copy does not exist yet. */
  private MoveRecord prepare(VmHandle vm, MoveRecord r) {
    try {
      if (r.mode() == MoveRecord.Mode.LIVE) {
        Optional<QemuProcess> p = sameQemu(vm, r);
        if (p.isEmpty()) return fail(vm, r, "the vm stopped before its mirror started");
        LiveMirror.start(new Qmp(p.get().qmp()), img, r, r.length());
        return MoveStore.write(vm.dir(), r.withPhase(MovePhase.COPYING));
      }
      if (vm.process().isPresent()) return fail(vm, r, "the vm was started before its offline copy began");
      long pid = OfflineCopy.start(img, r, vm.dir());
      return MoveStore.write(vm.dir(), r.withCopyPid(pid).withPhase(MovePhase.COPYING));
    } catch (QmpException e) {
      return fail(vm, r, "cannot start the mirror: " + Qmp.describe(e));
    } catch (AgentException e) {
      if (e.kind() == Kind.INTERNAL) throw e;
      return fail(vm, r, e.getMessage());
    }
  }

  /** What a move is now: the record, plus for a copy under way what QEMU or qemu-img say. */
  private MirrorStatus observe(VmHandle vm, MoveRecord r) {
    return switch (r.phase()) {
      case PREPARING -> status(r, MirrorState.RUNNING, r.offset(), r.length());
      // the controller repeats the pivot, which finishes it; until then the copy is in sync
      case PIVOTING -> r.mode() == MoveRecord.Mode.LIVE && vm.process().isEmpty() ? status(rollForward(vm, r))
          : status(r, MirrorState.READY, r.length(), r.length());
      case PIVOTED, RELEASED -> status(r);
      case FAILED -> {
        if (Files.exists(Path.of(r.targetPath()))) rollBack(vm, r); // an earlier cleanup was cut short
        yield status(r);
      }
      case COPYING -> r.mode() == MoveRecord.Mode.LIVE ? observeLive(vm, r) : observeOffline(vm, r);
    };
  }

  private MirrorStatus observeLive(VmHandle vm, MoveRecord r) {
    Optional<QemuProcess> p = sameQemu(vm, r);
    if (p.isEmpty()) return status(fail(vm, r, "the vm stopped during the mirror; it keeps its old disk"));
    LiveMirror.Observed seen;
    try {
      seen = LiveMirror.observe(new Qmp(p.get().qmp()), r);
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot ask qemu of vm " + r.vm() + " about job " + r.jobId() + ": "
          + Qmp.describe(e), e);
    }
    return switch (seen) {
      case LiveMirror.Observed.Copying c -> status(r, c.ready() ? MirrorState.READY : MirrorState.RUNNING, c.offset(), c.length());
      case LiveMirror.Observed.Failed f -> status(fail(vm, r, describeFailure(r, f.error())));
    };
  }

  private MirrorStatus observeOffline(VmHandle vm, MoveRecord r) {
    return switch (OfflineCopy.observe(r, vm.dir())) {
      case OfflineCopy.Observed.Running run -> status(r, MirrorState.RUNNING, (long) (r.length() * run.percent() / 100), r.length());
      case OfflineCopy.Observed.Done d -> status(r, MirrorState.READY, r.length(), r.length());
      case OfflineCopy.Observed.Failed f -> status(fail(vm, r, describeFailure(r, f.error())));
    };
  }

  private MoveRecord pivotLive(VmHandle vm, MoveRecord r) {
    Optional<QemuProcess> p = sameQemu(vm, r);
    if (p.isEmpty()) {
      if (r.phase() == MovePhase.PIVOTING) return rollForward(vm, r);
      MoveRecord failed = fail(vm, r, "the vm stopped before the pivot; it keeps its old disk");
      throw conflict(failed, failed.error());
    }
    var q = new Qmp(p.get().qmp());
    BlockNodes target = r.targetNodes();
    Long pivotMs = null;
    try {
      if (r.phase() == MovePhase.COPYING) {
        MirrorStatus now = observeLive(vm, r);
        if (now.state() == MirrorState.FAILED) throw conflict(MoveStore.read(vm.dir(), r.disk()).orElse(r), now.error());
        if (now.state() != MirrorState.READY) {
          throw conflict(r, "the mirror is not ready (copied " + now.offset() + " of " + now.length() + " bytes)");
        }
        // point of no return: from here on the move rolls forward
        r = MoveStore.write(vm.dir(), r.withProgress(now.offset(), now.length()).withPhase(MovePhase.PIVOTING));
      }
      // the bitmap first: it records every guest write to the target from before the switch on
      q.nodes().addBitmapIfMissing(target.format(), BITMAP);
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
        MoveRecord failed = fail(vm, r, "the pivot did not switch the disk (device uses " + node + ")"
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

  private MoveRecord pivotOffline(VmHandle vm, MoveRecord r) {
    long t0 = System.nanoTime();
    if (r.phase() == MovePhase.COPYING) {
      MirrorStatus now = observeOffline(vm, r);
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
  private MoveRecord rollForward(VmHandle vm, MoveRecord r) {
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

  private VerifyResult verifyOffline(MoveRecord r) {
    long t0 = System.nanoTime();
    long first = img.compare(Path.of(r.sourcePath()), r.sourceFormat(), Path.of(r.targetPath()), r.targetFormat());
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // qemu-img compare stops at the first difference: one sector is all it can vouch for
    return first < 0 ? new VerifyResult(true, r.length(), 0, 0, null, ms)
        : new VerifyResult(false, r.length(), 0, 512, first, ms);
  }

  /** Records the failure first, then removes the target (QEMU nodes, job, file). */
  private MoveRecord fail(VmHandle vm, MoveRecord r, String why) {
    MoveRecord failed = MoveStore.write(vm.dir(), r.failed(why));
    log.warn("vm {}: move of disk {} to {} failed: {}", r.vm(), r.disk(), r.targetPath(), why);
    rollBack(vm, failed);
    return failed;
  }

  /** Undoes a move before its pivot, best effort step by step; the VM stays on its source. */
  private void rollBack(VmHandle vm, MoveRecord r) {
    if (r.mode() == MoveRecord.Mode.LIVE) {
      sameQemu(vm, r).ifPresent(p -> LiveMirror.rollBack(new Qmp(p.qmp()), r));
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
  private static void deleteImage(VmHandle vm, Path image) {
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

  // ---- helpers

  /** The QEMU the move's job runs in, if it still runs: another pid has no such job. */
  private static Optional<QemuProcess> sameQemu(VmHandle vm, MoveRecord r) {
    return vm.process().filter(p -> r.qemuPid() != null && p.pid() == r.qemuPid());
  }

  private String describeFailure(MoveRecord r, String error) {
    if (!error.contains("No space left")) return "mirror to pool " + r.pool() + " failed: " + error;
    long free = pools.find(r.pool()).map(p -> freeSpace.applyAsLong(p.path())).orElse(-1L);
    return "mirror to pool " + r.pool() + " failed: " + error + " (ENOSPC: pool " + r.pool() + " is full, " + free
        + " bytes free)";
  }

  static BlockNodes targetNodes(String disk, String suffix) {
    String base = disk + "-m" + suffix;
    if ((base + "-file").length() > MAX_NODE_NAME) {
      base = disk + "-m" + Integer.toHexString(suffix.hashCode() & 0xffffff);
    }
    return new BlockNodes(base + "-file", base);
  }

  private MoveRecord require(VmHandle vm, String disk) {
    vm.disk(disk);
    return MoveStore.read(vm.dir(), disk).orElseThrow(() -> new AgentException(Kind.CONFLICT,
        "vm " + vm.name() + " has no move of disk " + disk + "; start one with PUT mirrors/" + disk));
  }

  private static AgentException conflict(MoveRecord r, String why) {
    return new AgentException(Kind.CONFLICT, "move of disk " + r.disk() + " of vm " + r.vm() + " to " + r.targetPath()
        + ": " + why);
  }

  private static MirrorStatus status(MoveRecord r) {
    return status(r, r.phase().reported(), r.offset(), r.length());
  }

  private static MirrorStatus status(MoveRecord r, MirrorState state, long offset, long length) {
    return new MirrorStatus(r.disk(), state, r.sourcePath(), r.sourceFormat(), r.targetPath(), r.targetFormat(), offset,
        length, r.pivotMs(), r.error());
  }

  private static MirrorStatus none(String disk) {
    return new MirrorStatus(disk, MirrorState.NONE, null, null, null, null, 0, 0, null, null);
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
