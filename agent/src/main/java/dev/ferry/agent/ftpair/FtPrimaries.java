package dev.ferry.agent.ftpair;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.ft.ColoCheckpoints;
import dev.ferry.agent.ft.ColoPlumbing;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.FtPrimaryStatus;
import dev.ferry.api.agent.FtProtectRequest;
import dev.ferry.api.agent.FtNicPorts;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.block.QueryBlockJobs;
import dev.ferry.qmp.colo.QueryColoStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Protection of this host's VMs as COLO primaries. {@link #protect} answers at once and runs the
 * disk sync and COLO's start ({@link ColoPlumbing#sync}, {@link ColoPlumbing#protect}) on its own
 * thread; {@link #status} follows it and, once protected, counts checkpoints from the QEMU's
 * STOP/RESUME events ({@link ColoCheckpoints}, counting from COLO's start so the enable pause is
 * not taken for one). A failed enable undoes itself ({@link ColoPlumbing#unprotect}): the guest
 * runs on, plain.
 *
 * <p>A protected VM refuses stop, delete and redefine here too (409, disable first); kill goes
 * through. The phase lives in memory: a restarted agent finds a primary still in COLO from its
 * QEMU's {@code query-colo-status} and reports it protected, counting checkpoints afresh.
 *
 * <p>The heartbeat to the secondary and the self-fence run in the VM's {@link Fencer}, a process
 * of its own that outlives this agent as the QEMU does; each controller status call is relayed to
 * it, and what it heard (or that it fenced) is read back from its state file.
 */
public final class FtPrimaries implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(FtPrimaries.class);
  static final Duration SYNC_TIMEOUT = Duration.ofMinutes(30);
  static final Duration COLO_START = Duration.ofSeconds(60);
  static final Duration UNPROTECT = Duration.ofSeconds(20);
  static final String PROTECT_FILE = "ft-protect.json";
  private static final Set<String> GUARDED = Set.of("stop", "delete", "redefine");

  private final Vms vms;
  private final InstantSource clock;
  private final ExecutorService runner = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "ferry-ft-primary");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Protection> protections = new ConcurrentHashMap<>();

  /** One VM's protection as far as it got; fields guarded by its monitor. */
  private static final class Protection {
    final FtProtectRequest request;
    String phase = FtPrimaryStatus.SYNCING;
    String reason;
    Long syncedBytes;
    Long syncTotal;
    Long enablePauseMs;
    final ColoCheckpoints checkpoints = new ColoCheckpoints();
    QmpSubscription stops;
    QmpSubscription resumes;
    /** the VM's heartbeat and self-fence; null without peer heartbeats (or after it ended) */
    FencerProcess fencer;
    Instant fencedAt;

    Protection(FtProtectRequest request) {
      this.request = request;
    }

    /** Drops the QMP subscriptions; the fencer is left running (it outlives this agent). */
    synchronized void closeEvents() {
      if (stops != null) stops.close();
      if (resumes != null) resumes.close();
      stops = resumes = null;
    }
  }

  public FtPrimaries(Vms vms, InstantSource clock) {
    this.vms = vms;
    this.clock = clock;
    vms.guardActions(this::checkAction);
    vms.onKill(name -> {
      Protection p = protections.remove(name);
      if (p != null) {
        p.closeEvents();
        log.info("vm {}: killed while under fault tolerance; its protection ends here", name);
      }
      // a fencer an earlier agent left (its QEMU fenced, then killed after a failover) ends with it
      if (vms.exists(name)) FencerProcess.stop(name, vms.peek(name).dir());
    });
  }

  private void checkAction(String vm, String action) {
    Protection p = protections.get(vm);
    if (p != null && GUARDED.contains(action)) {
      String phase;
      synchronized (p) {
        phase = p.phase;
      }
      // a fenced primary is the copy a failover left behind: the controller removes it
      if (!phase.equals(FtPrimaryStatus.FAILED) && !phase.equals(FtPrimaryStatus.FENCED)) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " is under fault tolerance (" + phase + ", secondary on "
            + p.request.secondaryHost() + "); disable it first (ferry ft disable " + vm + ") to " + action + " it");
      }
    }
  }

  public FtPrimaryStatus protect(String vm, FtProtectRequest req) {
    if (req.checkpointIntervalMs() < 20 || req.checkpointIntervalMs() > 60_000) {
      throw AgentException.badInput("checkpoint_interval_ms", Integer.toString(req.checkpointIntervalMs()),
          "20 to 60000 milliseconds");
    }
    VmHandle h = vms.peek(vm);
    if (!h.definition().ft()) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " was not created ft-ready: its disks have no quorum node to"
          + " add the replication to; recreate it with --ft-ready (a running vm cannot change its disk layout)");
    }
    int nics = h.spec().nics().size();
    int given = req.nicPorts() == null ? 0 : req.nicPorts().size();
    if (given != nics) {
      throw AgentException.badInput("nic_ports", given + " nics' ports", "one per nic of vm " + vm + " (" + nics
          + "): the secondary's ends of the COLO network proxy");
    }
    QemuProcess qemu = h.process().orElseThrow(() -> new AgentException(Kind.CONFLICT, "vm " + vm + " is not running"));
    Protection fresh = new Protection(req);
    Protection p = protections.putIfAbsent(vm, fresh);
    if (p != null) {
      synchronized (p) {
        if (!p.phase.equals(FtPrimaryStatus.FAILED)) return status(vm);
      }
      protections.put(vm, fresh);
    }
    List<DiskSpec> disks = h.spec().disks();
    JsonFiles.write(h.dir().resolve(PROTECT_FILE), req);
    // a fencer left from an earlier protection would heartbeat with its old token and peer
    FencerProcess.stop(vm, h.dir());
    startFencer(vm, fresh, qemu, h.dir(), false);
    runner.execute(() -> run(vm, fresh, qemu.qmp(), disks, h.runDir().dir()));
    return status(vm);
  }

  private void run(String vm, Protection p, QmpClient q, List<DiskSpec> disks, java.nio.file.Path run) {
    FtProtectRequest r = p.request;
    long t0 = System.nanoTime();
    try {
      Thread progress = Thread.ofVirtual().start(() -> watchSync(p, q));
      try {
        ColoPlumbing.sync(q, disks, r.secondaryAddress(), r.nbdPort(), SYNC_TIMEOUT);
      } finally {
        progress.interrupt();
      }
      phase(vm, p, FtPrimaryStatus.PROTECTING);
      List<FtNicPorts> nics = r.nicPorts() == null ? List.of() : r.nicPorts();
      Duration paused = ColoPlumbing.protect(q, disks, nics, run, r.secondaryAddress(), r.nbdPort(), r.migrationPort(),
          r.checkpointIntervalMs(), COLO_START);
      synchronized (p) {
        p.enablePauseMs = paused.toMillis();
        p.stops = q.subscribe("STOP", e -> p.checkpoints.stopped(e.timestamp()));
        p.resumes = q.subscribe("RESUME", e -> p.checkpoints.resumed(e.timestamp()));
      }
      phase(vm, p, FtPrimaryStatus.PROTECTED);
      log.info("vm {}: protected, secondary on {} ({} ms, guest paused {} ms, checkpoints every {} ms)", vm,
          r.secondaryHost(), Duration.ofNanos(System.nanoTime() - t0).toMillis(), paused.toMillis(),
          r.checkpointIntervalMs());
    } catch (RuntimeException | InterruptedException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      log.warn("vm {}: protection failed, undoing: {}", vm, why);
      try {
        ColoPlumbing.unprotect(q, disks, r.nicPorts() == null ? 0 : r.nicPorts().size(), UNPROTECT);
      } catch (RuntimeException | InterruptedException u) {
        why = why + "; undoing it failed too: " + u.getMessage();
      }
      synchronized (p) {
        p.reason = why;
        p.closeEvents();
        endFencer(vm, p);
      }
      phase(vm, p, FtPrimaryStatus.FAILED);
    }
  }

  /** The VM's fencer (heartbeats to the secondary's agent, self-fence once {@code armed}): adopted or started. */
  private void startFencer(String vm, Protection p, QemuProcess qemu, java.nio.file.Path dir, boolean armed) {
    FtProtectRequest r = p.request;
    if (r.heartbeatPort() == null || r.secondaryAddress() == null) return;
    try {
      FencerProcess f = FencerProcess.startOrAdopt(vm, r, qemu.pid(), dir, armed);
      synchronized (p) {
        p.fencer = f;
      }
    } catch (AgentException e) {
      log.warn("vm {}: {}; this primary sends no heartbeat and cannot fence itself", vm, e.getMessage());
    }
  }

  private static void endFencer(String vm, Protection p) {
    synchronized (p) {
      if (p.fencer != null) p.fencer.stop();
      p.fencer = null;
    }
  }

  /** Stops the QEMU with SIGSTOP: immediate, not undone by a checkpoint in flight, and reversible by hand (SIGCONT). */
  private void fence(String vm, Protection p, QemuProcess qemu, String why) {
    synchronized (p) {
      if (p.fencedAt != null) return;
      if (qemu.isAlive()) {
        Subprocess.run(List.of("kill", "-STOP", Long.toString(qemu.pid())), Duration.ofSeconds(5)).requireOk();
      }
      p.fencedAt = clock.instant();
      p.reason = "fenced: " + why;
      log.warn("vm {}: ft primary fenced (qemu pid {} stopped): {}", vm, qemu.pid(), why);
      p.phase = FtPrimaryStatus.FENCED;
      // its heartbeats stopped with the QEMU (the fencer sends none for a stopped process); it ends here
      endFencer(vm, p);
    }
  }

  /** A planned failover: this primary's guest stops here before the secondary takes over; idempotent. */
  public FtPrimaryStatus fence(String vm) {
    VmHandle h = vms.peek(vm);
    Protection p = protections.get(vm);
    if (p == null) p = adoptColo(vm);
    if (p == null) throw new AgentException(Kind.CONFLICT, "vm " + vm + " is not an ft primary here");
    QemuProcess qemu = h.process().orElse(null);
    if (qemu == null) {
      synchronized (p) {
        if (p.fencedAt == null) p.fencedAt = clock.instant();
        p.phase = FtPrimaryStatus.FENCED;
      }
    } else {
      fence(vm, p, qemu, "asked by the controller (planned failover)");
    }
    return status(vm);
  }

  private void watchSync(Protection p, QmpClient q) {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        long done = 0;
        long total = 0;
        for (var j : q.call(new QueryBlockJobs(), Duration.ofSeconds(5))) {
          if (!j.device().endsWith("-sync")) continue;
          done += j.offset();
          total += j.len();
        }
        synchronized (p) {
          p.syncedBytes = done;
          p.syncTotal = total;
        }
        Thread.sleep(250);
      } catch (QmpException | InterruptedException | java.util.concurrent.CancellationException e) {
        // the sync ended (the runner interrupts this when it does) or the QEMU went: nothing more to follow
        return;
      }
    }
  }

  private void phase(String vm, Protection p, String next) {
    synchronized (p) {
      log.info("vm {}: ft {} -> {}", vm, p.phase, next);
      p.phase = next;
      if (next.equals(FtPrimaryStatus.PROTECTED) && p.fencer != null) p.fencer.arm();
    }
  }

  /**
   * On each status call: the controller is relayed to the fencer; a fencer that fenced the guest
   * makes the phase {@code fenced}; one that died while the guest runs is started again (its
   * silence would otherwise read as a lost host once this agent is unreachable).
   */
  private void followFencer(String vm, Protection p) {
    FencerProcess f;
    synchronized (p) {
      f = p.fencer;
    }
    if (f == null) return;
    f.heardController();
    FencerProcess.State st = f.state();
    if (st != null && st.fencedAt() != null) {
      synchronized (p) {
        if (p.fencedAt == null) {
          p.fencedAt = st.fencedAt();
          p.reason = "fenced by its fencer: " + st.reason();
          p.phase = FtPrimaryStatus.FENCED;
          log.warn("vm {}: ft primary fenced by its fencer: {}", vm, st.reason());
        }
      }
      return;
    }
    if (f.alive() || !vms.exists(vm)) return;
    QemuProcess qemu = vms.peek(vm).process().orElse(null);
    synchronized (p) {
      boolean running = p.phase.equals(FtPrimaryStatus.SYNCING) || p.phase.equals(FtPrimaryStatus.PROTECTING)
          || p.phase.equals(FtPrimaryStatus.PROTECTED);
      if (qemu == null || !qemu.isAlive() || !running || p.fencer != f) return;
      log.warn("vm {}: its ft fencer is gone while the guest runs; starting another", vm);
    }
    startFencer(vm, p, qemu, vms.peek(vm).dir(), p.phase.equals(FtPrimaryStatus.PROTECTED));
  }

  public FtPrimaryStatus status(String vm) {
    Protection p = protections.get(vm);
    if (p == null) p = adoptColo(vm);
    if (p == null) {
      vms.peek(vm); // 404 for an unknown vm
      return new FtPrimaryStatus(vm, FtPrimaryStatus.NONE, null, null, null, 0, null, null, null, null, null);
    }
    followFencer(vm, p);
    ColoCheckpoints.Summary s = p.checkpoints.summary(clock.instant());
    boolean qemuGone = vms.exists(vm) && vms.peek(vm).process().isEmpty();
    synchronized (p) {
      String phase = p.phase;
      String reason = p.reason;
      if (qemuGone && phase.equals(FtPrimaryStatus.PROTECTED)) {
        // the QEMU died under a live agent: its heartbeats stopped with it; the controller fails over
        phase = FtPrimaryStatus.FAILED;
        reason = "the primary qemu is gone (vm " + vms.peek(vm).status().state() + ")";
      }
      return new FtPrimaryStatus(vm, phase, p.request.secondaryHost(), p.syncedBytes, p.syncTotal, s.checkpoints(),
          s.pauseMedianMs(), s.pauseMaxMs(), s.lastCheckpointAt(), p.enablePauseMs, reason,
          p.fencer == null ? null : p.fencer.secondarySilentMs(), p.fencedAt);
    }
  }

  /** A primary a previous agent protected: still in COLO, so protected, counted from now on. */
  private Protection adoptColo(String vm) {
    if (!vms.exists(vm)) return null;
    QemuProcess qemu = vms.peek(vm).process().orElse(null);
    if (qemu == null || !vms.peek(vm).definition().ft()) return null;
    java.nio.file.Path dir = vms.peek(vm).dir();
    java.nio.file.Path saved = dir.resolve(PROTECT_FILE);
    FencerProcess.State fenced = FencerProcess.readState(dir);
    if (fenced != null && fenced.fencedAt() != null && Fencer.stopped(qemu.pid())) {
      // fenced while no agent ran: its QMP would not answer (the process is stopped); the controller fails over
      var p = new Protection(java.nio.file.Files.isRegularFile(saved) ? JsonFiles.read(saved, FtProtectRequest.class)
          : new FtProtectRequest(null, null, 0, 0, 0));
      p.phase = FtPrimaryStatus.FENCED;
      p.fencedAt = fenced.fencedAt();
      p.reason = "fenced by its fencer: " + fenced.reason();
      Protection before = protections.putIfAbsent(vm, p);
      return before != null ? before : p;
    }
    try {
      if (!qemu.qmp().call(new QueryColoStatus(), Duration.ofSeconds(5)).mode().equals("primary")) return null;
    } catch (QmpException e) {
      return null;
    }
    FtProtectRequest req = java.nio.file.Files.isRegularFile(saved) ? JsonFiles.read(saved, FtProtectRequest.class)
        : new FtProtectRequest(null, null, 0, 0, 0);
    var p = new Protection(req);
    p.phase = FtPrimaryStatus.PROTECTED;
    p.reason = "adopted by a restarted agent: checkpoints counted from " + clock.instant();
    p.stops = qemu.qmp().subscribe("STOP", e -> p.checkpoints.stopped(e.timestamp()));
    p.resumes = qemu.qmp().subscribe("RESUME", e -> p.checkpoints.resumed(e.timestamp()));
    Protection before = protections.putIfAbsent(vm, p);
    if (before != null) {
      p.closeEvents();
      return before;
    }
    startFencer(vm, p, qemu, dir, true);
    return p;
  }

  /** Back to a plain VM whatever protection reached; the guest runs on. Idempotent. */
  public FtPrimaryStatus unprotect(String vm) {
    VmHandle h = vms.peek(vm);
    Protection p = protections.get(vm);
    QemuProcess qemu = h.process().orElse(null);
    if (qemu != null) {
      long t0 = System.nanoTime();
      try {
        ColoPlumbing.unprotect(qemu.qmp(), h.spec().disks(), h.spec().nics().size(), UNPROTECT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AgentException(Kind.UNAVAILABLE, "vm " + vm + ": interrupted while unprotecting", e);
      }
      log.info("vm {}: unprotected in {} ms", vm, Duration.ofNanos(System.nanoTime() - t0).toMillis());
    }
    if (p != null) {
      p.closeEvents();
      protections.remove(vm, p);
    }
    FencerProcess.stop(vm, h.dir());
    try {
      java.nio.file.Files.deleteIfExists(h.dir().resolve(PROTECT_FILE));
    } catch (java.io.IOException e) {
      log.warn("vm {}: cannot delete {}: {}", vm, PROTECT_FILE, e.getMessage());
    }
    return new FtPrimaryStatus(vm, FtPrimaryStatus.NONE, null, null, null, p == null ? 0 : p.checkpoints.summary(
        clock.instant()).checkpoints(), null, null, null, null, null);
  }

  @Override
  public void close() {
    runner.shutdownNow();
    protections.values().forEach(Protection::closeEvents);
  }
}
