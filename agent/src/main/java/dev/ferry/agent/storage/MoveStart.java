package dev.ferry.agent.storage;

import static dev.ferry.agent.storage.MoveAnswers.conflict;
import static dev.ferry.agent.storage.MoveAnswers.sameQemu;
import static dev.ferry.agent.storage.MoveAnswers.status;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.qmp.QmpException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start of a disk move, PREPARING → COPYING. The record (target path, node names, job id,
 * the QEMU pid) is written before anything is created, so a repeated start, or one after an agent
 * restart, finds the move and creates only what is missing: the live mirror in the running QEMU,
 * or a background {@code qemu-img convert} of a stopped VM's disk. A known move asked for again
 * with the same pool, format and suffix is answered as it is.
 */
final class MoveStart {

  private static final Logger log = LoggerFactory.getLogger(MoveStart.class);
  /** free space a target pool must have beyond the source's allocated bytes */
  static final long SPACE_MARGIN = 64L << 20;
  /** QEMU node names are at most 31 characters */
  static final int MAX_NODE_NAME = 31;

  private final Pools pools;
  private final QemuImg img;
  private final ToLongFunction<Path> freeSpace;
  private final MoveRollback rollback;
  private final MoveObserver observer;
  private final RateLoop rates;

  MoveStart(Pools pools, QemuImg img, ToLongFunction<Path> freeSpace, MoveRollback rollback, MoveObserver observer,
      RateLoop rates) {
    this.pools = pools;
    this.img = img;
    this.freeSpace = freeSpace;
    this.rollback = rollback;
    this.observer = observer;
    this.rates = rates;
  }

  /** {@code format}: the target's format, lower case, or null for the source's. */
  StorageMoves.Started begin(VmHandle vm, DiskSpec disk, MirrorRequest req, String format) {
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
        return new StorageMoves.Started(r.phase() == MovePhase.PREPARING ? status(prepare(vm, r)) : observer.observe(vm, r),
            false);
      }
      if (same && req.suffix() != null) return new StorageMoves.Started(observer.observe(vm, r), false);
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
        Instant.now(), false).withAdaptiveRate(live && req.adaptiveRate());
    MoveStore.write(vm.dir(), r);
    log.info("vm {}: moving disk {} ({}, {}) to pool {} as {} ({}, {})", vm.name(), disk.id(), source,
        disk.format().driver(), pool.name(), target, wanted, live ? "live mirror" : "offline copy");
    return new StorageMoves.Started(status(prepare(vm, r)), true);
  }

  /** PREPARING → COPYING: creates whatever of the copy does not exist yet. */
  private MoveRecord prepare(VmHandle vm, MoveRecord r) {
    try {
      if (r.mode() == MoveRecord.Mode.LIVE) {
        Optional<QemuProcess> p = sameQemu(vm, r);
        if (p.isEmpty()) return rollback.fail(vm, r, "the vm stopped before its mirror started");
        var q = new Qmp(p.get().qmp());
        String device = vm.disk(r.disk()).deviceId();
        MoveRecord copying = MoveStore.write(vm.dir(), LiveMirror.start(q, img, r, r.length(), device)
            .withPhase(MovePhase.COPYING));
        rates.ensure(q, copying, device);
        return copying;
      }
      if (vm.process().isPresent()) return rollback.fail(vm, r, "the vm was started before its offline copy began");
      long pid = OfflineCopy.start(img, r, vm.dir());
      return MoveStore.write(vm.dir(), r.withCopyPid(pid).withPhase(MovePhase.COPYING));
    } catch (QmpException e) {
      return rollback.fail(vm, r, "cannot start the mirror: " + Qmp.describe(e));
    } catch (AgentException e) {
      if (e.kind() == Kind.INTERNAL) throw e;
      return rollback.fail(vm, r, e.getMessage());
    }
  }

  /** The mirror's target nodes: named after disk and suffix, hashed when QEMU's length limit needs it. */
  static BlockNodes targetNodes(String disk, String suffix) {
    String base = disk + "-m" + suffix;
    if ((base + "-file").length() > MAX_NODE_NAME) {
      base = disk + "-m" + Integer.toHexString(suffix.hashCode() & 0xffffff);
    }
    return new BlockNodes(base + "-file", base);
  }
}
