package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.api.agent.WarmPassRequest;
import dev.ferry.api.agent.WarmShutdownRequest;
import dev.ferry.api.agent.WarmSource;
import dev.ferry.api.agent.WarmSourceRequest;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.BlockDirtyBitmapAdd;
import dev.ferry.qmp.export.BlockExportAdd;
import dev.ferry.qmp.block.BlockDirtyBitmapDisable;
import dev.ferry.qmp.block.BlockDirtyBitmapRemove;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.block.Transaction;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.SetAction;
import dev.ferry.qmp.machine.SystemPowerdown;
import dev.ferry.qmp.machine.SystemReset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of a warm migration: the running VM's own QEMU serves its disks over its
 * built-in NBD server, and dirty bitmaps say what the guest wrote since each pass began.
 *
 * <p>Bitmap {@code ferry-warm-N} records the writes from the start of pass N. Pass 0 exports each
 * disk whole (bitmap 0 was added before, so nothing the full copy misses is lost). Pass N first
 * adds bitmap N and disables bitmap N-1 in one {@code transaction} (no write falls between), then
 * exports each disk with bitmap N-1 as {@code qemu:dirty-bitmap:ferry-warm-N-1}, so the target
 * copies exactly the writes made during pass N-1; a write during pass N is in bitmap N, copied by
 * pass N+1. What pass N-1 used (its exports, bitmap N-2) is dropped when pass N is prepared.
 *
 * <p>The final pass runs after the guest powered off: {@code set-action shutdown=pause} (the run
 * time form of {@code -no-shutdown}) keeps QEMU, its flushed disks, bitmaps and server after the
 * guest's own power-off, so the final pass is an ordinary pass over the last bitmap; raw and qcow2
 * disks alike (a bitmap kept across a QEMU exit would need persistent bitmaps, qcow2 only). A
 * cancel boots such a guest again ({@code system_reset}, {@code cont}); a guest that does not power
 * off in time is never killed.
 *
 * <p>The state is in {@code DATA/warm/sources/VM.json}, written before each step's side effect;
 * bitmaps and exports live in QEMU, which outlives an agent restart, and every step looks at QEMU
 * before it acts.
 */
public final class WarmSources {

  private static final Logger log = LoggerFactory.getLogger(WarmSources.class);
  static final String BITMAP = "ferry-warm-";
  static final String EXPORT = "ferry-warm-";
  /** bytes per bitmap bit: QEMU's usual cluster size */
  static final long GRANULARITY = 65536;
  /** a guest still booting drops a press of the power button */
  private static final Duration PRESS_AGAIN = Duration.ofSeconds(5);
  /** how long a QEMU whose QMP connection broke may take to be seen gone */
  private static final Duration QEMU_GONE = Duration.ofSeconds(2);

  /** What is persisted about one VM's warm source. */
  record SourceRecord(String migrationId, String vm, String targetHost, int port, boolean tls, int pass,
      List<ColdExport.ColdExportDisk> disks, Long shutdownMs) {
    SourceRecord withPass(int p, List<ColdExport.ColdExportDisk> d) {
      return new SourceRecord(migrationId, vm, targetHost, port, tls, p, d, shutdownMs);
    }

    SourceRecord withShutdownMs(long ms) {
      return new SourceRecord(migrationId, vm, targetHost, port, tls, pass, disks, ms);
    }
  }

  private final Path dir;
  private final Vms vms;
  private final String address;
  private final SourcePorts ports;
  private final StreamTls tls;
  private final SourceHashes hashing;
  private final dev.ferry.agent.cold.ImageHashes imageHashes;
  /** this host's name: its certificate's identity, let into its own warm NBD server */
  private final String self;

  public WarmSources(Path dataDir, Vms vms, String self, String address, dev.ferry.agent.migration.PortRange range,
      StreamTls tls, Path tlsDir, dev.ferry.agent.cold.ImageHashes imageHashes) {
    this.self = self;
    this.hashing = new SourceHashes(tlsDir);
    this.imageHashes = imageHashes;
    this.dir = dataDir.resolve("warm/sources");
    this.vms = vms;
    this.address = address;
    this.ports = new SourcePorts(address, range);
    this.tls = tls;
  }

  /** Refuses a user's start, stop, redefine or delete while a warm migration reads the VM's disks. */
  public void checkAction(String vm, String action) {
    Optional<SourceRecord> r = read(vm);
    if (r.isPresent()) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " cannot " + action + ": warm migration "
          + r.get().migrationId() + " copies its disks; cancel the migration first");
    }
  }

  public synchronized WarmSource start(String vm, WarmSourceRequest req) {
    Optional<SourceRecord> existing = read(vm);
    if (existing.isPresent() && !existing.get().migrationId().equals(req.migrationId())) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " is the source of warm migration "
          + existing.get().migrationId());
    }
    return vms.withVm(vm, "warm-export the disks of", Vms.ACTION_WAIT, h -> {
      QemuProcess p = h.process().orElseThrow(() -> new AgentException(Kind.CONFLICT, "vm " + vm + " is "
          + h.status().state().name().toLowerCase(java.util.Locale.ROOT) + "; only a running vm migrates warm"));
      if (existing.isEmpty() && h.status().state() != VmState.RUNNING) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " is " + h.status().state().name()
            .toLowerCase(java.util.Locale.ROOT) + "; only a running vm migrates warm");
      }
      var q = new Qmp(p.qmp());
      SourceRecord rec = existing.orElseGet(() -> {
        List<ColdExport.ColdExportDisk> disks = new ArrayList<>();
        List<BlockDeviceInfo> nodes = q.call(new QueryNamedBlockNodes(true));
        for (DiskSpec d : h.spec().disks()) {
          String node = h.nodes(d).format();
          long size = nodes.stream().filter(n -> n.nodeName().equals(node)).findFirst()
              .flatMap(n -> n.virtualSize().isPresent() ? Optional.of(n.virtualSize().getAsLong()) : Optional.empty())
              .orElseThrow(() -> new AgentException(Kind.INTERNAL, "qemu of vm " + vm + " reports no size of node "
                  + node));
          disks.add(new ColdExport.ColdExportDisk(d.id(), "", d.format().driver(), size));
        }
        var r = new SourceRecord(req.migrationId(), vm, req.targetHost(), ports.choose(), tls.on(), -1, disks, null);
        write(r);
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (ColdExport.ColdExportDisk d : disks) sizes.put(d.disk(), d.virtualSize());
        HashLedger.unknown(req.migrationId(), sizes).write(ledgerFile(vm));
        return r;
      });
      // QEMU stays when the guest powers off: the final pass reads the disks from it
      q.call(new SetAction("pause"));
      var persisted = new java.util.concurrent.atomic.AtomicReference<>(rec);
      ports.listen("the warm nbd server of vm " + vm, rec.port(),
          port -> write(persisted.updateAndGet(r -> new SourceRecord(r.migrationId(), r.vm(), r.targetHost(), port,
              r.tls(), r.pass(), r.disks(), r.shutdownMs()))),
          port -> q.nbdServer().startTcp(address, port, tls.nbdServerFor(q, req.targetHost(), self)));
      rec = persisted.get();
      // bitmap 0 before any byte is copied: every write from here on is caught
      List<String> present = bitmaps(q, h, 0);
      for (DiskSpec d : h.spec().disks()) {
        if (!present.contains(d.id())) q.call(new BlockDirtyBitmapAdd(h.nodes(d).format(), BITMAP + 0, GRANULARITY));
      }
      log.info("vm {}: warm source of migration {} on {}:{} ({}), bitmap {}0 on {}", vm, rec.migrationId(), address,
          rec.port(), rec.tls() ? "tls" : "plain", BITMAP, rec.disks().stream().map(ColdExport.ColdExportDisk::disk)
              .toList());
      return view(rec, q, h);
    });
  }

  public WarmSource status(String vm) {
    SourceRecord rec = require(vm, null);
    VmHandle h = vms.peek(vm);
    return view(rec, h.process().map(p -> new Qmp(p.qmp())).orElse(null), h);
  }

  /**
   * Prepares pass {@code req.pass()}: bitmaps rotated, disks exported with the previous bitmap.
   * The final pass (asked for after the guest powered off) leaves the previous pass's exports and
   * bitmaps to QEMU's exit (or a cancel's undo) and answers without asking QEMU for the guest's
   * state and dirty count (off, and none: nothing writes any more): each is a round trip of the
   * downtime.
   */
  public synchronized WarmSource pass(String vm, WarmPassRequest req) {
    return pass(vm, req, require(vm, req.migrationId()));
  }

  /**
   * {@link #pass(String, WarmPassRequest)} from {@code rec}, which it persists with the pass. A pass
   * after the recorded one is fresh: the record is written before any of a pass's steps, so none of
   * them was taken, and QEMU is not asked which bitmaps and exports it has (two round trips, the
   * final pass's while the guest is down); a repeat of the recorded pass looks first.
   */
  private synchronized WarmSource pass(String vm, WarmPassRequest req, SourceRecord rec) {
    int n = req.pass();
    if (n != rec.pass() && n != rec.pass() + 1) {
      throw AgentException.badInput("pass", Integer.toString(n), "the current pass " + rec.pass() + " or the next");
    }
    boolean fresh = n == rec.pass() + 1;
    // the previous pass's hashing reads through the exports this pass drops
    if (fresh) hashing.await(vm);
    WarmSource view = vms.withVm(vm, "prepare a warm pass of", Vms.ACTION_WAIT, h -> {
      var q = new Qmp(running(vm, h).qmp());
      List<ColdExport.ColdExportDisk> disks = new ArrayList<>();
      for (ColdExport.ColdExportDisk d : rec.disks()) {
        disks.add(new ColdExport.ColdExportDisk(d.disk(), EXPORT + n + "-" + d.disk(), d.format(), d.virtualSize()));
      }
      SourceRecord next = rec.withPass(n, disks);
      write(next);
      boolean last = rec.shutdownMs() != null;
      List<dev.ferry.qmp.QmpCommand<?>> steps = new ArrayList<>();
      if (n > 0 && last) {
        // the guest is off: no write can fall after the last bitmap, so it only stops (QEMU exports
        // no bitmap that records), without a next one or a transaction, whose drain of every node
        // cost ~4 ms of the downtime; disabling a stopped bitmap again is allowed (a repeat)
        for (ColdExport.ColdExportDisk d : rec.disks()) {
          steps.add(new BlockDirtyBitmapDisable(h.nodes(h.disk(d.disk())).format(), BITMAP + (n - 1)));
        }
      } else if (n > 0) {
        for (ColdExport.ColdExportDisk d : rec.disks()) q.exports().deleteIfPresent(EXPORT + (n - 1) + "-" + d.disk(), true);
        if (n > 1) removeBitmaps(q, h, n - 2);
        // the next bitmap starts and the previous one stops in one step: no write falls between
        List<String> started = fresh ? List.of() : bitmaps(q, h, n);
        List<dev.ferry.qmp.QmpCommand<Void>> actions = new ArrayList<>();
        for (ColdExport.ColdExportDisk d : rec.disks()) {
          if (started.contains(d.disk())) continue;
          String node = h.nodes(h.disk(d.disk())).format();
          actions.add(new BlockDirtyBitmapAdd(node, BITMAP + n, GRANULARITY));
          actions.add(new BlockDirtyBitmapDisable(node, BITMAP + (n - 1)));
        }
        if (!actions.isEmpty()) steps.add(new Transaction(actions));
      }
      List<String> present = fresh ? List.of() : q.exports().ids();
      for (ColdExport.ColdExportDisk d : disks) {
        if (present.contains(d.export())) continue;
        String node = h.nodes(h.disk(d.disk())).format();
        steps.add(new BlockExportAdd(d.export(), node, d.export(), false, n == 0 ? List.of() : List.of(BITMAP + (n - 1))));
      }
      // an export needs its bitmap stopped (QEMU refuses one that records), not the answer saying
      // so: one round trip, the final pass's while the guest is down
      q.callAllInOrder(steps);
      log.info("vm {}: warm pass {} of migration {} exported{}", vm, n, rec.migrationId(),
          n == 0 ? " whole" : " with bitmap " + BITMAP + (n - 1));
      return last ? new WarmSource(next.migrationId(), export(next, 0), n, n > 0 ? BITMAP + (n - 1) : null, 0,
          WarmSource.SHUTDOWN, next.shutdownMs()) : view(next, q, h);
    });
    hashing.start(vm, ledgerFile(vm), view.export(), n);
    return view;
  }

  /**
   * Presses the power button (again every {@link #PRESS_AGAIN}) until the guest powered off or
   * the timeout passed; QEMU stays either way, and a guest that did not power off runs on. A QEMU
   * that dies meanwhile (killed, crashed) is refused, saying how it ended: its guest never powered
   * off, so what it had not written is missing from the disks a final pass would copy.
   */
  public WarmSource shutdown(String vm, WarmShutdownRequest req) {
    SourceRecord rec = require(vm, req.migrationId());
    VmHandle h = vms.peek(vm);
    QemuProcess p = h.process().orElseThrow(() -> h.lastExit().isPresent() ? diedBeforePowerOff(vm,
        h.lastExit().get()) : new AgentException(Kind.CONFLICT, "vm " + vm + " has no qemu running here"));
    try {
      var q = new Qmp(p.qmp());
      SourceRecord now = pressUntilOff(vm, rec, req, q);
      // the final pass prepared at once, persisted with the power-off's time in one write; its
      // answer says the guest is off without asking QEMU again
      if (now.shutdownMs() != null && req.finalPass() != null) {
        try {
          return pass(vm, new WarmPassRequest(req.migrationId(), req.finalPass()), now);
        } catch (RuntimeException e) {
          // the power-off is kept whatever the pass got to (it may have recorded itself already)
          SourceRecord kept = require(vm, req.migrationId());
          if (kept.shutdownMs() == null) write(kept.withShutdownMs(now.shutdownMs()));
          throw e;
        }
      }
      if (now != rec) write(now);
      return view(now, q, h);
    } catch (QmpException e) {
      if (!p.awaitExit(QEMU_GONE)) throw e;
      throw diedBeforePowerOff(vm, p.exitDescription());
    }
  }

  private static AgentException diedBeforePowerOff(String vm, String how) {
    return new AgentException(Kind.CONFLICT, "the qemu of vm " + vm + " died during its guest's power-off, before the"
        + " guest powered off: " + how + "; what the guest had not written is not on its disks, which are left as they"
        + " are, and no final pass can run");
  }

  /**
   * The record, with the power-off's time set once the guest is off (still null if it runs on);
   * the caller persists it.
   */
  private SourceRecord pressUntilOff(String vm, SourceRecord rec, WarmShutdownRequest req, Qmp q) {
    // a repeat finds the guest off already; else every question asked before the press, or again
    // after QEMU said it is off, is a round trip of the downtime
    if (isShutdown(q)) return rec;
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofMillis(req.timeoutMs()).toNanos();
    long nextPress = t0;
    boolean off = false;
    while (!off && System.nanoTime() < deadline) {
      if (System.nanoTime() >= nextPress) {
        q.call(new SystemPowerdown());
        nextPress = System.nanoTime() + PRESS_AGAIN.toNanos();
      }
      awaitStop(q);
      // answered once QEMU's stop has flushed the disks: the same main loop runs both
      off = isShutdown(q);
    }
    if (!off) {
      log.warn("vm {}: guest did not power off within {} ms; it keeps running", vm, req.timeoutMs());
      return rec;
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    log.info("vm {}: guest powered off in {} ms for warm migration {}; qemu kept for the final pass", vm, ms,
        rec.migrationId());
    return rec.withShutdownMs(ms);
  }


  /**
   * Waits at most 50 ms for QEMU to stop the powered-off guest. The event ends the wait the moment
   * it comes, where a fixed sleep added half its length on average to the cutover's downtime;
   * counting from the latest {@code query-status}, an event sent just after it is not missed.
   */
  private static void awaitStop(Qmp q) {
    try {
      q.awaitEvent(e -> e.name().equals("STOP") || e.name().equals("SHUTDOWN"), Duration.ofMillis(50));
    } catch (QmpTimeoutException e) {
      // still running: the loop asks again, and presses again when due
    }
  }

  /**
   * After the final pass: QEMU quits, its bitmaps (never persistent), exports and NBD server with
   * it, so nothing is removed one by one first (each removal a round trip while the guest is down);
   * the record goes.
   */
  public synchronized WarmSource finish(String vm) {
    SourceRecord rec = require(vm, null);
    // the final pass's chunks are hashed through QEMU's exports: before they go
    hashing.await(vm);
    vms.withVm(vm, "finish the warm source of", Vms.ACTION_WAIT, h -> {
      h.process().ifPresent(p -> {
        var q = new Qmp(p.qmp());
        if (!isShutdown(q)) {
          throw new AgentException(Kind.CONFLICT, "vm " + vm + " is still running; the guest must power off before"
              + " the warm source is finished");
        }
      });
      h.quit();
      return null;
    });
    delete(vm);
    log.info("vm {}: warm source of migration {} finished, qemu quit", vm, rec.migrationId());
    return new WarmSource(rec.migrationId(), export(rec, 0), rec.pass(), null, 0, WarmSource.GONE, rec.shutdownMs());
  }

  /**
   * The hashes of the VM's disks for the cutover's comparison. Before {@link #finish}, once the
   * guest is off and the final pass's chunks are hashed, only from the ledger, and only when it
   * knows every chunk: the cutover then compares without waiting for QEMU to quit (the images
   * cannot be read here beside it). After it, those the passes kept and the rest (none, unless
   * hashing was not kept) computed from the images now.
   */
  public List<DiskHashes> hashes(String vm, String migrationId) {
    Optional<SourceRecord> source = read(vm);
    if (source.isPresent()) return keptHashes(vm, source.get(), migrationId);
    HashLedger ledger = HashLedger.read(ledgerFile(vm)).filter(l -> l.migrationId().equals(migrationId))
        .orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "no hashes of warm migration " + migrationId
            + " of vm " + vm + " on this host"));
    if (ledger.unknownChunks() > 0) {
      log.info("vm {}: {} chunks not hashed by the passes of warm migration {}, hashed now", vm,
          ledger.unknownChunks(), migrationId);
    }
    List<DiskHashes> out = new ArrayList<>();
    for (DiskSpec d : vms.peek(vm).spec().disks()) {
      out.add(imageHashes.fill(d.id(), Path.of(d.path()), d.format().driver(), ledger.chunkBytes(d.id()),
          ledger.known(d.id())));
    }
    return out;
  }

  private List<DiskHashes> keptHashes(String vm, SourceRecord rec, String migrationId) {
    if (!rec.migrationId().equals(migrationId) || rec.shutdownMs() == null) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " is still the source of a warm migration; its hashes"
          + " are compared after the final pass");
    }
    hashing.await(vm);
    HashLedger ledger = HashLedger.read(ledgerFile(vm)).filter(l -> l.migrationId().equals(migrationId))
        .orElse(null);
    if (ledger == null || ledger.pass() != rec.pass() || ledger.unknownChunks() > 0) {
      throw new AgentException(Kind.CONFLICT, "the hashes of vm " + vm + " are not all kept (the source hashed up"
          + " to pass " + (ledger == null ? "none" : Integer.toString(ledger.pass())) + " of " + rec.pass()
          + "); they are computed from its disks after the warm source is finished");
    }
    List<DiskHashes> out = new ArrayList<>();
    for (ColdExport.ColdExportDisk d : rec.disks()) {
      out.add(new DiskHashes(d.disk(), ledger.chunkBytes(d.disk()), ledger.known(d.disk())));
    }
    return out;
  }

  /** Drops the hashes a finished migration kept (the VM left this host, or a new migration begins). */
  public void forgetHashes(String vm) {
    HashLedger.delete(ledgerFile(vm));
  }

  private Path ledgerFile(String vm) {
    return dir.resolve(vm + ".hashes");
  }

  /** Undoes the source (a cancel): bitmaps, exports and server removed; a powered-off guest boots again. */
  public synchronized void cancel(String vm) {
    Optional<SourceRecord> rec = read(vm);
    if (rec.isEmpty()) {
      forgetHashes(vm);
      return;
    }
    vms.withVm(vm, "cancel the warm source of", Vms.ACTION_WAIT, h -> {
      h.process().ifPresent(p -> {
        var q = new Qmp(p.qmp());
        undo(q, h, rec.get());
        q.call(new SetAction("poweroff"));
        if (isShutdown(q)) {
          // the reset is taken by QEMU's main loop a moment later; cont before it would be refused
          q.call(new SystemReset());
          for (int i = 0; i < 100 && isShutdown(q); i++) sleep(50);
          q.call(new Cont());
          log.info("vm {}: guest powered off for warm migration {} boots again", vm, rec.get().migrationId());
        }
      });
      return null;
    });
    delete(vm);
    // the exports are gone, so a hashing thread still reading them ends now
    hashing.await(vm);
    forgetHashes(vm);
    log.info("vm {}: warm source of migration {} cancelled", vm, rec.get().migrationId());
  }

  private void undo(Qmp q, VmHandle h, SourceRecord rec) {
    for (String id : q.exports().ids()) {
      if (id.startsWith(EXPORT)) q.exports().deleteIfPresent(id, true);
    }
    for (BlockDeviceInfo n : q.call(new QueryNamedBlockNodes(true))) {
      for (BlockDeviceInfo.DirtyBitmap b : n.dirtyBitmaps()) {
        if (b.name().startsWith(BITMAP)) q.call(new BlockDirtyBitmapRemove(n.nodeName(), b.name()));
      }
    }
    q.nbdServer().stopIfRunning();
  }

  /** The disks (ids) that have bitmap {@code n}. */
  private static List<String> bitmaps(Qmp q, VmHandle h, int n) {
    List<BlockDeviceInfo> nodes = q.call(new QueryNamedBlockNodes(true));
    List<String> out = new ArrayList<>();
    for (DiskSpec d : h.spec().disks()) {
      String node = h.nodes(d).format();
      boolean has = nodes.stream().filter(x -> x.nodeName().equals(node))
          .anyMatch(x -> x.dirtyBitmaps().stream().anyMatch(b -> b.name().equals(BITMAP + n)));
      if (has) out.add(d.id());
    }
    return out;
  }

  private static void removeBitmaps(Qmp q, VmHandle h, int n) {
    for (String disk : bitmaps(q, h, n)) {
      q.call(new BlockDirtyBitmapRemove(h.nodes(h.disk(disk)).format(), BITMAP + n));
    }
  }

  private WarmSource view(SourceRecord rec, Qmp q, VmHandle h) {
    long dirty = 0;
    String guest = WarmSource.GONE;
    if (q != null) {
      try {
        guest = isShutdown(q) ? WarmSource.SHUTDOWN : WarmSource.RUNNING;
        String recording = BITMAP + Math.max(0, rec.pass());
        for (BlockDeviceInfo n : q.call(new QueryNamedBlockNodes(true))) {
          for (BlockDeviceInfo.DirtyBitmap b : n.dirtyBitmaps()) {
            if (b.name().equals(recording)) dirty += b.count();
          }
        }
      } catch (QmpException e) {
        log.warn("vm {}: cannot read the dirty bitmaps: {}", rec.vm(), e.getMessage());
      }
    }
    return new WarmSource(rec.migrationId(), export(rec, 0), rec.pass(), rec.pass() > 0 ? BITMAP + (rec.pass() - 1)
        : null, dirty, guest, rec.shutdownMs());
  }

  private ColdExport export(SourceRecord rec, long pid) {
    return new ColdExport(rec.migrationId(), address, rec.port(), rec.tls(), pid, rec.disks());
  }

  private static boolean isShutdown(Qmp q) {
    return q.runState().status().equals("shutdown");
  }

  private static QemuProcess running(String vm, VmHandle h) {
    return h.process().orElseThrow(() -> new AgentException(Kind.CONFLICT, "vm " + vm + " has no qemu running here"));
  }

  private SourceRecord require(String vm, String migrationId) {
    SourceRecord r = read(vm).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "vm " + vm
        + " is not the source of a warm migration on this host"));
    if (migrationId != null && !r.migrationId().equals(migrationId)) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " is the source of warm migration " + r.migrationId()
          + ", not " + migrationId);
    }
    return r;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted waiting for the guest to power off", e);
    }
  }

  private Optional<SourceRecord> read(String vm) {
    Path f = dir.resolve(vm + ".json");
    return Files.exists(f) ? Optional.of(JsonFiles.read(f, SourceRecord.class)) : Optional.empty();
  }

  private void write(SourceRecord r) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create " + dir + ": " + e.getMessage(), e);
    }
    JsonFiles.write(dir.resolve(r.vm() + ".json"), r);
  }

  private void delete(String vm) {
    try {
      Files.deleteIfExists(dir.resolve(vm + ".json"));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove the warm source record of vm " + vm, e);
    }
  }
}
