package dev.ferry.controller;

import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.Json;
import dev.ferry.api.PoolView;
import dev.ferry.api.Problem;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.Defined;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.OutgoingUnlock;
import dev.ferry.api.agent.PostcopyResume;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.api.agent.VolumeView;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for {@code ferry agent}: a {@link HostAgent} served over real HTTP through the same
 * route binding as the real agent ({@link FakeAgentServer}), recording each call as
 * {@code METHOD path}; sends heartbeats on demand or periodically. {@code failOn} makes one call
 * answer 500; kernel/initrd paths outside every pool answer 400.
 */
final class FakeAgent implements HostAgent, AutoCloseable {

  final String name;
  /** this host's credential, shown with each heartbeat */
  final String token;
  /** what the controller must show on each call to this agent */
  final String controllerCredential;
  final long memoryBytes;
  final List<String> calls = new CopyOnWriteArrayList<>();
  final Map<String, PoolView> pools = new ConcurrentHashMap<>();
  final Map<String, AgentVmStatus> vms = new ConcurrentHashMap<>();
  final Map<String, VolumeView> volumes = new ConcurrentHashMap<>();
  /** the bridges this host reports in its heartbeat */
  final List<String> bridges = new CopyOnWriteArrayList<>(List.of("vmbr0"));
  /** the last definition of each VM, as the controller sent it */
  final Map<String, AgentVmDefinition> definitions = new ConcurrentHashMap<>();
  volatile String failOn;
  /** the next call that is exactly this answers 500, before any hold; then this is cleared */
  volatile String failOnce;
  /** disk moves by "vm/disk"; a GET advances a running move by a quarter until it is ready */
  final Map<String, MirrorStatus> moves = new ConcurrentHashMap<>();
  /** every mirror request received, in order */
  final List<MirrorRequest> mirrorRequests = new CopyOnWriteArrayList<>();
  /** while true, running moves make progress but never become ready */
  volatile boolean holdReady;
  /** when set, a running move fails with this error at its next GET */
  volatile String failMirror;
  /** live migration, target side: the last PUT incoming per vm and its phase */
  final Map<String, IncomingRequest> incoming = new ConcurrentHashMap<>();
  final Map<String, IncomingPhase> incomingPhase = new ConcurrentHashMap<>();
  /** QEMU's migration status the target reports; GONE plays a dead target QEMU */
  volatile QemuMigrationStatus targetQemu = QemuMigrationStatus.ACTIVE;
  /** what POST incoming/recover answers */
  static final String RECOVERY_URI = "tcp:127.0.0.1:49153";
  /** the parameters of every POST outgoing/parameters, in order */
  final List<Map<String, Object>> tuned = new CopyOnWriteArrayList<>();
  /** the URI the last POST outgoing/resume carried */
  volatile String resumedTo;
  /** when set, PUT incoming answers this problem */
  volatile Problem refuseIncoming;
  /** live migration, source side: the POST outgoing per vm */
  final Map<String, OutgoingRequest> outgoing = new ConcurrentHashMap<>();
  /** GET outgoing answers these in order (the last one repeats); the migration id is filled in */
  final List<MigrationStats> script = new CopyOnWriteArrayList<>();
  /** after POST outgoing/postcopy, GET outgoing answers these instead */
  final List<MigrationStats> postcopyScript = new CopyOnWriteArrayList<>();
  private volatile List<MigrationStats> playing = List.of();
  private volatile int played;
  private volatile MigrationStats lastStats;
  /** while set, GET outgoing holds at this script index (the answer repeats) */
  volatile int holdAt = Integer.MAX_VALUE;
  /** when set, the source completes just before a cancel reaches it: POST outgoing/cancel answers 409 */
  volatile boolean completeBeforeCancel;
  /** while set and closed, POST outgoing/complete waits for it */
  volatile java.util.concurrent.CountDownLatch completeGate;
  /** while set, the call named by {@code pauseOn} waits for this gate (at most 5 s), then answers as usual */
  volatile java.util.concurrent.CountDownLatch pauseGate;
  volatile String pauseOn;
  /** like {@code pauseOn}, for every call that starts with it (a path with an id not known ahead) */
  volatile String pausePrefix;
  /** when set, verification reports this many mismatched bytes */
  volatile long verifyMismatch;
  /** how long verification takes */
  volatile long verifyMillis;
  private final FakeAgentServer server;
  private volatile boolean closed;
  private volatile Thread reviver;

  FakeAgent(String name, String token, long memoryBytes) {
    this(name, token, token, memoryBytes);
  }

  FakeAgent(String name, String token, String controllerCredential, long memoryBytes) {
    this.name = name;
    this.token = token;
    this.controllerCredential = controllerCredential;
    this.memoryBytes = memoryBytes;
    this.server = new FakeAgentServer(this);
  }

  /** What the fake answers instead of a value: the problem document, with its status. */
  static final class Refused extends RuntimeException {
    final Problem problem;

    Refused(Problem problem) {
      super(problem.detail());
      this.problem = problem;
    }
  }

  private static Refused notFound(String detail) {
    return new Refused(Problem.of(404, "not found", detail));
  }

  // ---- hosts, pools, volumes, vms

  @Override
  public AgentHeartbeat host() {
    return heartbeatBody();
  }

  @Override
  public List<PoolView> pools() {
    return List.copyOf(pools.values());
  }

  @Override
  public Defined<PoolView> definePool(String pool, AgentPoolRequest req) {
    PoolView p = new PoolView(pool, name, req.path(), req.shared(), 100L << 30, 50L << 30);
    pools.put(p.name(), p);
    return new Defined<>(p, false);
  }

  @Override
  public VolumeView createVolume(VolumeCreateRequest req) {
    PoolView p = pools.get(req.pool());
    if (p == null) throw notFound("pool '" + req.pool() + "' does not exist");
    VolumeView v = new VolumeView(req.pool(), req.name(), p.path() + "/" + req.name(), req.format(), req.sizeBytes());
    volumes.put(req.pool() + "/" + req.name(), v);
    return v;
  }

  @Override
  public void deleteVolume(String pool, String volume) {
    volumes.remove(pool + "/" + volume);
  }

  @Override
  public List<AgentVmStatus> vms() {
    return List.copyOf(vms.values());
  }

  @Override
  public AgentVmStatus vm(String vm) {
    return require(vm);
  }

  @Override
  public Defined<AgentVmStatus> defineVm(String vm, AgentVmDefinition d) {
    for (String path : new String[] {d.kernel(), d.initrd()}) {
      if (path != null && pools.values().stream().noneMatch(p -> path.startsWith(p.path() + "/"))) {
        throw new Refused(Problem.badInput("kernel", path, "a path inside one of the pools of host '" + name + "'"));
      }
    }
    AgentVmStatus running = vms.get(d.name());
    boolean hasQemu = running != null && (running.state() == VmState.RUNNING || running.state() == VmState.PAUSED);
    // as the real agent: the same definition again is taken at any time and changes nothing
    if (hasQemu && d.equals(definitions.get(d.name()))) return new Defined<>(running, false);
    if (hasQemu) {
      // as the real agent: a definition never replaces a running QEMU's (a late redefine, e.g. a
      // stopped controller's call still in flight, must not turn a started VM back into a stopped one)
      throw new Refused(Problem.of(409, "conflict", "vm " + d.name() + " is running; stop it before redefining it"));
    }
    AgentVmStatus s = new AgentVmStatus(d.name(), VmState.STOPPED, null, d.memoryBytes(), d.memoryBytes(), null,
        "pc-q35-8.2", "tcg");
    vms.put(d.name(), s);
    definitions.put(d.name(), d);
    return new Defined<>(s, false);
  }

  @Override
  public void deleteVm(String vm, boolean deleteDisks) {
    AgentVmStatus s = require(vm);
    staged.remove(vm);
    vms.remove(s.name());
    if (deleteDisks) volumes.keySet().removeIf(k -> k.contains("/" + s.name() + "-"));
  }

  /** the next this many starts fail as the real agent answers a QEMU that exits while it starts (the vm stays stopped) */
  volatile int startCrashes;

  /** VMs whose QEMU waits, paused, for its staged disks */
  final java.util.Set<String> staged = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** VMs whose staged start fails as a QEMU that exits while it starts */
  final java.util.Set<String> stageFails = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public AgentVmStatus stageVm(String vm) {
    AgentVmStatus s = require(vm);
    calls.add("stage " + vm);
    if (staged.contains(vm)) return s;
    if (stageFails.contains(vm)) {
      throw new Refused(Problem.of(409, "conflict", "qemu for vm " + vm + " exited with status 1 during start:"
          + " qemu-system-x86_64: -machine pc-q35-8.2: unsupported machine type"));
    }
    staged.add(vm);
    return become(s, VmState.PAUSED);
  }

  /** VMs whose staged QEMU refuses its images, as the real agent answers QEMU's refusal to open one */
  final java.util.Set<String> attachFails = java.util.concurrent.ConcurrentHashMap.newKeySet();

  @Override
  public dev.ferry.api.agent.WarmCopyStatus attachWarmCopy(String id) {
    var s = requireWarmCopy(id);
    String vm = warmCopyVms.get(id);
    if (!staged.contains(vm)) return s;
    if (attachFails.contains(vm)) {
      throw new Refused(Problem.of(409, "conflict", "vm " + vm + ": attaching the staged disks to qemu pid 4242 failed:"
          + " Could not open '/pools/local/" + vm + "-disk0.qcow2': Permission denied"));
    }
    calls.add("attach staged " + vm);
    return s;
  }

  /** the VM of each warm copy */
  final Map<String, String> warmCopyVms = new ConcurrentHashMap<>();

  @Override
  public AgentVmStatus start(String vm) {
    AgentVmStatus s = require(vm);
    if (startCrashes > 0) {
      staged.remove(vm);
      startCrashes--;
      become(s, VmState.STOPPED);
      throw new Refused(Problem.of(503, "unavailable", "qemu for vm " + vm + " exited with status 1 during start:"
          + " qemu-system-x86_64: terminating on signal 6"));
    }
    if (staged.remove(vm)) calls.add("start staged " + vm);
    return become(s, VmState.RUNNING);
  }

  @Override
  public AgentVmStatus stop(String vm, Duration timeout) {
    AgentVmStatus s = require(vm);
    calls.add("timeout_ms=" + (timeout == null ? null : timeout.toMillis()));
    return become(s, VmState.STOPPED);
  }

  /** What the heartbeat reports of the QEMU's machine types; null: not reported. */
  volatile List<String> machineTypes;

  /** VMs whose guest ignores the power button: {@link #powerDown} leaves them running. */
  final java.util.Set<String> refusesPowerDown = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** VMs whose warm source kept no hashes (its hashing did not end): they hash only once finished */
  final java.util.Set<String> keepsNoHashes = java.util.concurrent.ConcurrentHashMap.newKeySet();
  /** VMs whose QEMU is SIGKILLed after the power button was pressed, before the guest powered off */
  final java.util.Set<String> qemuDiesAtPowerButton = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** As the real agent refuses a power-off that its QEMU's death ended (the vm crashed). */
  private Refused diedAtPowerButton(String vm, String what) {
    become(require(vm), VmState.CRASHED);
    return new Refused(Problem.of(409, "conflict", "the qemu of vm " + vm + " died " + what + ", before the guest"
        + " powered off: " + QEMU_KILLED + "; what the guest had not written is not on its disks, which are left as"
        + " they are"));
  }

  static final String QEMU_KILLED = "qemu pid 4242 was killed by signal 9 (SIGKILL)";

  @Override
  public AgentVmStatus powerDown(String vm, Duration timeout) {
    AgentVmStatus s = require(vm);
    calls.add("powerdown timeout_ms=" + (timeout == null ? null : timeout.toMillis()));
    // as the real agent: no QEMU, nothing to power down; the state stays as its death left it
    if (s.state() == VmState.CRASHED) return s;
    if (qemuDiesAtPowerButton.contains(vm)) throw diedAtPowerButton(vm, "after the power button was pressed");
    return refusesPowerDown.contains(vm) ? s : become(s, VmState.STOPPED);
  }

  @Override
  public AgentVmStatus kill(String vm) {
    return become(require(vm), VmState.STOPPED);
  }

  private AgentVmStatus become(AgentVmStatus s, VmState next) {
    AgentVmStatus n = new AgentVmStatus(s.name(), next, next == VmState.RUNNING ? 4242L : null,
        s.memoryRequestedBytes(), s.memoryGivenBytes(), null, s.machineType(), s.accelerator());
    vms.put(n.name(), n);
    return n;
  }

  @Override
  public ConsoleChunk console(String vm, Long offset, Integer tail) {
    require(vm);
    return new ConsoleChunk(name, 0, 6, "hello\n");
  }

  private AgentVmStatus require(String vm) {
    AgentVmStatus s = vms.get(vm);
    if (s == null) throw notFound("vm '" + vm + "' is not defined here");
    return s;
  }

  // ---- storage migration

  @Override
  public Defined<MirrorStatus> mirror(String vm, String disk, MirrorRequest req) {
    mirrorRequests.add(req);
    String key = vm + "/" + disk;
    MirrorStatus existing = moves.get(key);
    if (existing != null && existing.targetPath().contains(req.suffix())) return new Defined<>(existing, false);
    PoolView p = pools.get(req.pool());
    String target = p.path() + "/" + vm + "-" + disk + "-" + req.suffix() + "." + req.format();
    MirrorStatus m = new MirrorStatus(disk, MirrorState.RUNNING, "/old/" + key, "qcow2", target, req.format(),
        0, 4L << 20, null, null);
    moves.put(key, m);
    return new Defined<>(m, true);
  }

  @Override
  public MirrorStatus mirrorStatus(String vm, String disk) {
    String key = vm + "/" + disk;
    MirrorStatus m = moves.get(key);
    if (m == null) return new MirrorStatus(disk, MirrorState.NONE, null, null, null, null, 0, 0, null, null);
    if (m.state() == MirrorState.RUNNING) {
      if (failMirror != null) {
        m = with(m, MirrorState.FAILED, m.offset(), failMirror);
      } else {
        long next = Math.min(m.length(), m.offset() + m.length() / 4);
        m = with(m, next == m.length() && !holdReady ? MirrorState.READY : MirrorState.RUNNING,
            holdReady ? Math.min(next, m.length() - 1) : next, null);
      }
      moves.put(key, m);
    }
    return m;
  }

  @Override
  public MirrorStatus pivot(String vm, String disk) {
    MirrorStatus m = moves.get(vm + "/" + disk);
    if (m.state() == MirrorState.FAILED) {
      // as the real agent: a copy that failed before its pivot is not pivoted; the vm keeps its old disk
      throw new Refused(Problem.of(409, "conflict", "move of disk " + disk + " of vm " + vm + " failed: " + m.error()));
    }
    m = new MirrorStatus(m.disk(), MirrorState.PIVOTED, m.sourcePath(), m.sourceFormat(), m.targetPath(),
        m.targetFormat(), m.offset(), m.length(), 4L, null);
    moves.put(vm + "/" + disk, m);
    return m;
  }

  /** The running or ready move of {@code vm/disk} fails with {@code error} (the job's error in QEMU). */
  void failMove(String vm, String disk, String error) {
    MirrorStatus m = moves.get(vm + "/" + disk);
    moves.put(vm + "/" + disk, with(m, MirrorState.FAILED, m.offset(), error));
  }

  @Override
  public VerifyResult verify(String vm, String disk) {
    MirrorStatus m = moves.get(vm + "/" + disk);
    if (require(vm).state() != VmState.RUNNING) {
      // as the real agent: the dirty bitmap of the writes since the pivot lived in the QEMU that is gone
      throw new Refused(Problem.of(409, "conflict", "move of disk " + disk + " of vm " + vm
          + " cannot be verified: the vm was stopped or restarted since the pivot, so the writes since then are unknown"));
    }
    try {
      Thread.sleep(verifyMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new VerifyResult(verifyMismatch == 0, m.length(), 0, verifyMismatch, verifyMismatch == 0 ? null : 1L << 20,
        verifyMillis);
  }

  @Override
  public MirrorStatus release(String vm, String disk, boolean keepSource) {
    calls.add("keep_source=" + keepSource);
    MirrorStatus m = with(moves.get(vm + "/" + disk), MirrorState.RELEASED, moves.get(vm + "/" + disk).offset(), null);
    moves.put(vm + "/" + disk, m);
    return m;
  }

  @Override
  public MirrorStatus cancelMirror(String vm, String disk) {
    MirrorStatus m = moves.remove(vm + "/" + disk);
    return new MirrorStatus(m.disk(), MirrorState.NONE, m.sourcePath(), m.sourceFormat(), null, null, 0, 0, null, null);
  }

  private static MirrorStatus with(MirrorStatus m, MirrorState state, long offset, String error) {
    return new MirrorStatus(m.disk(), state, m.sourcePath(), m.sourceFormat(), m.targetPath(), m.targetFormat(), offset,
        m.length(), m.pivotMs(), error);
  }

  // ---- live migration, target side

  @Override
  public IncomingReady incoming(String vm, IncomingRequest req) {
    if (refuseIncoming != null) throw new Refused(refuseIncoming);
    incoming.put(vm, req);
    incomingPhase.put(vm, IncomingPhase.LISTENING);
    boolean copy = req.copyStorage() != null && !req.copyStorage().isEmpty();
    Map<String, String> exports = new java.util.LinkedHashMap<>();
    if (copy) req.copyStorage().forEach(d -> exports.put(d.disk(), d.disk()));
    return new IncomingReady(req.migrationId(), "tcp:127.0.0.1:49152", copy ? "127.0.0.1" : null, copy ? 10809 : null,
        exports);
  }

  @Override
  public IncomingStatus incomingStatus(String vm) {
    IncomingRequest req = incoming.get(vm);
    if (req == null) throw notFound("vm " + vm + " has no incoming migration on this host");
    IncomingPhase phase = incomingPhase.get(vm);
    return new IncomingStatus(req.migrationId(), phase, targetQemu, phase == IncomingPhase.FINISHED, "inmigrate", 77L,
        targetQemu == QemuMigrationStatus.GONE ? "qemu exited" : null);
  }

  @Override
  public void rollBackIncoming(String vm) {
    incoming.remove(vm);
    incomingPhase.remove(vm);
  }

  @Override
  public IncomingStatus finishIncoming(String vm) {
    IncomingRequest req = incoming.get(vm);
    IncomingPhase at = incomingPhase.get(vm);
    if (targetQemu == QemuMigrationStatus.GONE && at == IncomingPhase.RESUMING) {
      // as the real agent: the guest may have run here, so the vm is this host's from now on, crashed
      incomingPhase.put(vm, IncomingPhase.FINISHED);
      vms.put(vm, new AgentVmStatus(vm, VmState.CRASHED, null, req.definition().memoryBytes(), req.memoryGivenBytes(),
          null, req.definition().machineType(), "tcg"));
      return new IncomingStatus(req.migrationId(), IncomingPhase.FINISHED, QemuMigrationStatus.GONE, false, "gone", null,
          "qemu exited");
    }
    if (targetQemu == QemuMigrationStatus.GONE && at != IncomingPhase.FINISHED) {
      throw new Refused(Problem.of(409, "conflict", "target qemu of vm " + vm + " is gone before its guest ever ran"
          + " here; the source keeps the guest: roll back with DELETE"));
    }
    incomingPhase.put(vm, IncomingPhase.FINISHED);
    vms.put(vm, new AgentVmStatus(vm, VmState.RUNNING, 7777L, req.definition().memoryBytes(), req.memoryGivenBytes(),
        null, req.definition().machineType(), "tcg"));
    return new IncomingStatus(req.migrationId(), IncomingPhase.FINISHED, QemuMigrationStatus.COMPLETED, true, "running",
        7777L, null);
  }

  @Override
  public IncomingReady recoverIncoming(String vm) {
    if (targetQemu == QemuMigrationStatus.GONE) {
      throw new Refused(Problem.of(409, "conflict", "target qemu of vm " + vm
          + " is gone; a post-copy cannot recover without it"));
    }
    return new IncomingReady(incoming.get(vm).migrationId(), RECOVERY_URI, null, null, Map.of());
  }

  // ---- live migration, source side

  @Override
  public MigrationStats outgoing(String vm, OutgoingRequest req) {
    AgentVmStatus s = require(vm);
    if (s.state() != VmState.RUNNING && !outgoing.containsKey(vm)) {
      throw new Refused(Problem.of(409, "conflict", "vm " + vm + " is " + s.state().name().toLowerCase(java.util.Locale.ROOT)
          + "; only a running vm can migrate"));
    }
    outgoing.put(vm, req);
    playing = script;
    played = 0;
    return next(vm);
  }

  @Override
  public MigrationStats outgoingStats(String vm) {
    if (!outgoing.containsKey(vm)) throw notFound("vm " + vm + " has no outgoing migration on this host");
    return next(vm);
  }

  /** While set, a stats request with a wait answers as a real agent does: held while the phase stays. */
  volatile boolean waitsForPhase;
  /** The stats requests that asked to wait, as {@code unless=PHASE wait_ms=N}. */
  final List<String> statsWaits = new CopyOnWriteArrayList<>();

  @Override
  public MigrationStats outgoingStats(String vm, String unlessPhase, int waitMs) {
    statsWaits.add("unless=" + unlessPhase + " wait_ms=" + waitMs);
    MigrationStats s = outgoingStats(vm);
    if (waitsForPhase && s.phase().wire().equals(unlessPhase)) {
      try {
        Thread.sleep(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return s;
  }

  @Override
  public MigrationStats cancelOutgoing(String vm) {
    MigrationStats s = lastStats;
    if (completeBeforeCancel) {
      playing = List.of(stats(OutgoingPhase.COMPLETED, QemuMigrationStatus.COMPLETED, s.ramTotalBytes(), 0, 0,
          s.passes() + 1, 0L));
      played = 0;
      holdAt = Integer.MAX_VALUE;
      lastStats = withId(playing.getFirst(), s.migrationId());
    }
    if (lastStats != null && lastStats.phase() == OutgoingPhase.COMPLETED) {
      throw new Refused(Problem.of(409, "conflict", "migration of vm " + vm + " is completed; roll forward"));
    }
    lastStats = withPhase(s, OutgoingPhase.CANCELLED, QemuMigrationStatus.CANCELLED);
    return lastStats;
  }

  @Override
  public MigrationStats postcopy(String vm) {
    playing = postcopyScript;
    played = 0;
    return lastStats;
  }

  @Override
  public MigrationStats pauseOutgoing(String vm) {
    return lastStats;
  }

  @Override
  public MigrationStats tuneOutgoing(String vm, MigrationTuning tuning) {
    tuned.add(tuning.parameters());
    return lastStats;
  }

  @Override
  public MigrationStats resumeOutgoing(String vm, PostcopyResume resume) {
    resumedTo = resume.migrationUri();
    return lastStats;
  }

  @Override
  public MigrationStats completeOutgoing(String vm, boolean deleteSourceImages) {
    calls.add("delete_source_images=" + deleteSourceImages);
    try {
      if (completeGate != null) completeGate.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    lastStats = withPhase(lastStats, OutgoingPhase.HANDED_OVER, lastStats.status());
    vms.remove(vm);
    return lastStats;
  }

  /** As the real agent: only a completed pre-copy of the named migration; a repeat changes nothing. */
  @Override
  public MigrationStats reclaimOutgoing(String vm, OutgoingReclaim request) {
    MigrationStats s = lastStats;
    if (!outgoing.containsKey(vm) || s == null) throw notFound("vm " + vm + " has no outgoing migration on this host");
    if (s.phase() == OutgoingPhase.RECLAIMED) return s;
    if (s.phase() != OutgoingPhase.COMPLETED) {
      throw new Refused(Problem.of(409, "conflict", "migration of vm " + vm + " is " + s.phase().wire()
          + "; only a completion whose target never ran can be reclaimed"));
    }
    lastStats = withPhase(s, OutgoingPhase.RECLAIMED, QemuMigrationStatus.COMPLETED);
    return lastStats;
  }

  /** As the real agent: a completed record is forgotten, an ended one kept as is, a running one refused. */
  @Override
  public MigrationStats unlockOutgoing(String vm, OutgoingUnlock request) {
    MigrationStats s = lastStats;
    if (!outgoing.containsKey(vm) || s == null) throw notFound("vm " + vm + " has no outgoing migration on this host");
    if (!s.migrationId().equals(request.migrationId())) {
      throw new Refused(Problem.of(409, "conflict", "vm " + vm + " has a record of migration " + s.migrationId()));
    }
    if (s.phase() == OutgoingPhase.COMPLETED) {
      outgoing.remove(vm);
      lastStats = null;
    } else if (!s.phase().ended()) {
      throw new Refused(Problem.of(409, "conflict", "migration " + s.migrationId() + " of vm " + vm + " is "
          + s.phase().wire() + " on this host and its runner still drives it"));
    }
    return s;
  }

  @Override
  public MemoryDigest memoryDigest(String vm) {
    throw notFound("the fake agent keeps no guest memory");
  }

  /** the dirty rate a measurement reports, MiB/s; null: the measurement never finishes */
  volatile Long dirtyRateMibS = 16L;
  /** System.nanoTime() of the last measurement started; 0: none */
  private volatile long dirtyRateStarted;

  @Override
  public DirtyRate measureDirtyRate(String vm, long calcTimeS) {
    require(vm);
    dirtyRateStarted = System.nanoTime();
    return new DirtyRate(DirtyRate.MEASURING, null, calcTimeS, 0L);
  }

  @Override
  public DirtyRate dirtyRate(String vm) {
    require(vm);
    Long rate = dirtyRateMibS;
    Long age = dirtyRateStarted == 0 ? null : (System.nanoTime() - dirtyRateStarted) / 1_000_000;
    return rate == null ? new DirtyRate(DirtyRate.MEASURING, null, 1, age) : new DirtyRate(DirtyRate.MEASURED, rate, 1, age);
  }

  private synchronized MigrationStats next(String vm) {
    MigrationStats s = lastStats;
    boolean over = s != null && s.phase().ended();
    if (!over && !playing.isEmpty()) {
      int i = Math.min(Math.min(played, holdAt), playing.size() - 1);
      played++;
      s = withId(playing.get(i), outgoing.get(vm).migrationId());
      lastStats = s;
    }
    return s;
  }

  /**
   * The source's stream ends with QEMU's failure {@code error} (a cut link, a full target disk, the
   * source QEMU's death): from the next answer on, unless the migration completed already.
   */
  synchronized void failStream(String error) {
    MigrationStats s = lastStats;
    if (s != null && s.phase().completed()) return;
    playing = List.of(failed(s, error));
    played = 0;
    holdAt = Integer.MAX_VALUE;
  }

  /** QEMU's failure {@code error}, as the source reports it after {@code last} (null: before the first pass). */
  static MigrationStats failed(MigrationStats last, String error) {
    MigrationStats b = last != null ? last : stats(OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 0, 1L << 30, 0, 1, null);
    return new MigrationStats(b.migrationId(), OutgoingPhase.FAILED, QemuMigrationStatus.FAILED, null, 5L, null, null,
        b.ramTransferredBytes(), b.ramRemainingBytes(), b.ramTotalBytes(), 0, 0.0, b.passes(), 0, List.of(), null, null,
        null, null, error);
  }

  /**
   * The QEMU of {@code vm} on this host dies: the vm is crashed, and an outgoing migration that had
   * not completed ends failed, as the real agent reports it (a completed one stays completed: its
   * outcome is on record).
   */
  void qemuDies(String vm) {
    staged.remove(vm);
    AgentVmStatus s = vms.get(vm);
    if (s != null) become(s, VmState.CRASHED);
    if (outgoing.containsKey(vm)) failStream("qemu exited (signal 9) during the migration");
    targetQemu = QemuMigrationStatus.GONE;
  }

  /** Scripted stats: one sample of a migration of 1 GiB of RAM. */
  static MigrationStats stats(OutgoingPhase phase, QemuMigrationStatus status, long transferred, long remaining,
      long dirtyRate, long passes, Long expectedDowntimeMs) {
    boolean done = phase == OutgoingPhase.COMPLETED;
    return new MigrationStats("?", phase, status, done ? 900L : null, 5L, done ? 42L : null, expectedDowntimeMs,
        transferred, remaining, 1L << 30, dirtyRate, 800.0, passes, 0, List.of(), done ? 55L : null, null, null, null,
        phase == OutgoingPhase.FAILED ? "connection reset by the target" : null);
  }

  private static MigrationStats withId(MigrationStats s, String id) {
    return new MigrationStats(id, s.phase(), s.status(), s.totalTimeMs(), s.setupTimeMs(), s.downtimeMs(),
        s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(), s.dirtyRateBytesPerS(),
        s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(),
        s.elapsedMs(), s.error(), s.ramProcessedBytes());
  }

  private static MigrationStats withPhase(MigrationStats s, OutgoingPhase phase, QemuMigrationStatus status) {
    return new MigrationStats(s.migrationId(), phase, status, s.totalTimeMs(), s.setupTimeMs(), s.downtimeMs(),
        s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(), s.dirtyRateBytesPerS(),
        s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(),
        s.elapsedMs(), s.error(), s.ramProcessedBytes());
  }

  /** {@code s} as QEMU reports it after {@code totalMs} in which the migration went through {@code ramBytes} of RAM. */
  static MigrationStats withRam(MigrationStats s, long totalMs, long ramBytes) {
    return new MigrationStats(s.migrationId(), s.phase(), s.status(), totalMs, s.setupTimeMs(), s.downtimeMs(),
        s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(), s.dirtyRateBytesPerS(),
        s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(),
        s.elapsedMs(), s.error(), ramBytes);
  }

  // ---- the fake's own controls

  String url() {
    return server.url();
  }

  /** The agent process dies (connection refused from now on); its state is kept, as on disk. */
  void die() {
    server.die();
  }

  /** The agent is back, on the same port, with its state. */
  void revive() {
    if (!closed) server.revive();
  }

  /** Dies now and comes back after {@code down}, as an agent restarted by its supervisor. */
  void dieFor(Duration down) {
    die();
    reviver = Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(down);
        revive();
      } catch (InterruptedException e) {
        // closed while down: stays down
      }
    });
  }

  /** this host's FT capability as its heartbeat reports it; null: none reported */
  volatile dev.ferry.api.FtView ft;
  /** whether this host's heartbeat says it can be a post-copy target; null: not reported */
  volatile Boolean postcopyReady;

  AgentHeartbeat heartbeatBody() {
    return new AgentHeartbeat(name, url(), 4, memoryBytes, "8.2.2", "tcg", List.copyOf(pools.values()),
        List.copyOf(vms.values()), null, null, null, List.copyOf(bridges), ft, machineTypes, postcopyReady);
  }

  /** Sends one heartbeat; returns the HTTP status. */
  int heartbeat(String controllerUrl) throws Exception {
    return server.heartbeat(controllerUrl, Json.mapper().writeValueAsBytes(heartbeatBody()));
  }

  void startHeartbeats(String controllerUrl, long periodMs) {
    server.startHeartbeats(() -> heartbeat(controllerUrl), periodMs);
  }

  void stopHeartbeats() {
    server.stopHeartbeats();
  }

  /** The calls that change something (not GETs), in order. */
  List<String> changes() {
    // a dirty rate measurement samples the guest's pages and changes nothing, though it is a POST
    return calls.stream().filter(c -> !c.startsWith("GET ") && !c.endsWith("/dirty-rate")).toList();
  }

  @Override
  public void close() {
    closed = true;
    Thread r = reviver;
    if (r != null) r.interrupt();
    server.close();
  }

  // cold migration: the agents' answers without QEMU (export, a copy that is done at once, hashes
  // that agree); the ITs drive the real thing

  final Map<String, dev.ferry.api.agent.ColdCopyStatus> coldCopies = new ConcurrentHashMap<>();
  /** when set, every cold copy ends failed with this error, as the real agent reports a write error */
  volatile String coldCopyError;
  /** while true, a cold copy stays copying (half done); else it is done at its next status read */
  volatile boolean holdColdCopy;

  @Override
  public dev.ferry.api.agent.ColdExport coldExport(String vm, dev.ferry.api.agent.ColdExportRequest request) {
    require(vm);
    var disks = definitions.get(vm).disks().stream()
        .map(d -> new dev.ferry.api.agent.ColdExport.ColdExportDisk(d.id(), vm + "-" + d.id(), d.format(), 1L << 30))
        .toList();
    return new dev.ferry.api.agent.ColdExport(request.migrationId(), "127.0.0.1", 10809, false, 4242, disks);
  }

  @Override
  public void stopColdExport(String vm) {
    require(vm);
  }

  @Override
  public List<dev.ferry.api.agent.DiskHashes> sourceHashes(String vm) {
    require(vm);
    return definitions.get(vm).disks().stream()
        .map(d -> new dev.ferry.api.agent.DiskHashes(d.id(), 64L << 20, List.of("a", "b"))).toList();
  }

  @Override
  public dev.ferry.api.agent.ColdCopyStatus coldCopy(String id, dev.ferry.api.agent.ColdCopyRequest request) {
    String error = coldCopyError;
    return coldCopies.computeIfAbsent(id, k -> new dev.ferry.api.agent.ColdCopyStatus(id,
        error != null ? dev.ferry.api.agent.ColdCopyStatus.FAILED : holdColdCopy
            ? dev.ferry.api.agent.ColdCopyStatus.COPYING : dev.ferry.api.agent.ColdCopyStatus.COPIED,
        4L << 20, (1L << 30) - (4L << 20), 1L << 30, 4L << 20,
        request.disks().stream().map(d -> new dev.ferry.api.agent.AgentDisk(d.disk(), "/pools/" + name + "/" + d.pool()
            + "/" + request.vm() + "-" + d.disk() + "-" + id.substring(0, 8) + "." + d.format(), d.format())).toList(),
        error));
  }

  @Override
  public dev.ferry.api.agent.ColdCopyStatus coldCopyStatus(String id) {
    var s = coldCopies.get(id);
    if (s == null) throw notFound("no cold copy " + id + " on this host");
    if (s.state().equals(dev.ferry.api.agent.ColdCopyStatus.COPYING) && (!holdColdCopy || coldCopyError != null)) {
      String error = coldCopyError;
      s = new dev.ferry.api.agent.ColdCopyStatus(id, error != null ? dev.ferry.api.agent.ColdCopyStatus.FAILED
          : dev.ferry.api.agent.ColdCopyStatus.COPIED, s.copiedBytes(), s.skippedBytes(), s.totalBytes(),
          s.plannedBytes(), s.disks(), error);
      coldCopies.put(id, s);
    }
    return s;
  }

  /** The agent restarted while a copy ran: as the real agent, the copy is failed from its persisted record. */
  void restartFailsColdCopies() {
    coldCopies.replaceAll((id, s) -> !s.state().equals(dev.ferry.api.agent.ColdCopyStatus.COPYING) ? s
        : new dev.ferry.api.agent.ColdCopyStatus(id, dev.ferry.api.agent.ColdCopyStatus.FAILED, s.copiedBytes(),
            s.skippedBytes(), s.totalBytes(), s.plannedBytes(), s.disks(), "the agent restarted during the copy"));
  }

  @Override
  public dev.ferry.api.agent.ColdCopyStatus cancelColdCopy(String id) {
    var s = coldCopies.remove(id);
    return new dev.ferry.api.agent.ColdCopyStatus(id, dev.ferry.api.agent.ColdCopyStatus.CANCELLED,
        s == null ? 0 : s.copiedBytes(), 0, 0, 0, List.of(), null);
  }

  @Override
  public List<dev.ferry.api.agent.DiskHashes> targetHashes(String id) {
    return coldCopyStatus(id).disks().stream()
        .map(d -> new dev.ferry.api.agent.DiskHashes(d.id(), 64L << 20, List.of("a", "b"))).toList();
  }

  @Override
  public dev.ferry.api.agent.ColdCopyStatus forgetColdCopy(String id) {
    var s = coldCopies.remove(id);
    return s != null ? s : new dev.ferry.api.agent.ColdCopyStatus(id, dev.ferry.api.agent.ColdCopyStatus.COPIED, 0, 0,
        0, 0, List.of(), null);
  }

  // warm migration: the agents' answers without QEMU. The source keeps a record per VM (pass, bitmap,
  // guest), the target a copy record per migration whose passes finish at the next status read
  // unless held; the ITs drive the real thing

  /** the source's warm records, by vm */
  final Map<String, dev.ferry.api.agent.WarmSource> warmSources = new ConcurrentHashMap<>();
  /** the target's warm copies, by migration id */
  final Map<String, dev.ferry.api.agent.WarmCopyStatus> warmCopies = new ConcurrentHashMap<>();
  /** what the source reports as written since the current pass began */
  volatile long warmDirtyBytes = 4L << 20;
  /** passes of this number and later stay copying (half done) while it is set */
  volatile int holdWarmPassFrom = Integer.MAX_VALUE;
  /** when set, the pass under way (or the next one started) fails with this error at its next status read */
  volatile String warmPassError;
  /** the error fails one pass only (a link cut for a moment), then it is cleared */
  volatile boolean warmPassErrorOnce;
  /** when set, PUT warm-copies answers this problem (the images cannot be made) */
  volatile Problem refuseWarmCopy;

  @Override
  public dev.ferry.api.agent.WarmSource warmSource(String vm, dev.ferry.api.agent.WarmSourceRequest request) {
    AgentVmStatus s = require(vm);
    var existing = warmSources.get(vm);
    if (existing != null) {
      if (!existing.migrationId().equals(request.migrationId())) {
        throw new Refused(Problem.of(409, "conflict", "vm " + vm + " is the source of warm migration "
            + existing.migrationId()));
      }
      return existing;
    }
    if (s.state() != VmState.RUNNING) {
      throw new Refused(Problem.of(409, "conflict", "vm " + vm + " is not running; only a running vm migrates warm"));
    }
    var w = new dev.ferry.api.agent.WarmSource(request.migrationId(), warmExport(vm, request.migrationId(), -1), -1,
        null, 0, dev.ferry.api.agent.WarmSource.RUNNING, null);
    warmSources.put(vm, w);
    return w;
  }

  private dev.ferry.api.agent.ColdExport warmExport(String vm, String id, int pass) {
    var disks = definitions.get(vm).disks().stream()
        .map(d -> new dev.ferry.api.agent.ColdExport.ColdExportDisk(d.id(), pass < 0 ? "" : "ferry-warm-" + pass + "-"
            + d.id(), d.format(), 1L << 30)).toList();
    return new dev.ferry.api.agent.ColdExport(id, "127.0.0.1", 10810, false, 4242, disks);
  }

  private dev.ferry.api.agent.WarmSource requireWarmSource(String vm) {
    var w = warmSources.get(vm);
    if (w == null) throw notFound("vm " + vm + " is not the source of a warm migration here");
    return w;
  }

  /** As the real agent: a warm step that needs the source's QEMU is refused once it died. */
  private void requireQemu(String vm) {
    if (require(vm).state() == VmState.CRASHED) {
      throw new Refused(Problem.of(409, "conflict", "vm " + vm + " has no qemu running here"));
    }
  }

  private boolean qemuGone(String vm) {
    AgentVmStatus s = vms.get(vm);
    return s == null || s.state() == VmState.CRASHED;
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceStatus(String vm) {
    var w = requireWarmSource(vm);
    if (qemuGone(vm)) {
      return new dev.ferry.api.agent.WarmSource(w.migrationId(), w.export(), w.pass(), w.bitmap(), 0,
          dev.ferry.api.agent.WarmSource.GONE, w.shutdownMs());
    }
    return new dev.ferry.api.agent.WarmSource(w.migrationId(), w.export(), w.pass(), w.bitmap(), warmDirtyBytes,
        w.guest(), w.shutdownMs());
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourcePass(String vm, dev.ferry.api.agent.WarmPassRequest request) {
    var w = requireWarmSource(vm);
    requireQemu(vm);
    if (request.pass() == w.pass()) return w;
    var n = new dev.ferry.api.agent.WarmSource(w.migrationId(), warmExport(vm, w.migrationId(), request.pass()),
        request.pass(), request.pass() == 0 ? null : "ferry-warm-" + (request.pass() - 1), warmDirtyBytes, w.guest(),
        w.shutdownMs());
    warmSources.put(vm, n);
    return n;
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceShutdown(String vm, dev.ferry.api.agent.WarmShutdownRequest request) {
    var w = requireWarmSource(vm);
    calls.add("warm powerdown timeout_ms=" + request.timeoutMs());
    requireQemu(vm);
    if (qemuDiesAtPowerButton.contains(vm)) throw diedAtPowerButton(vm, "during its guest's power-off");
    if (refusesPowerDown.contains(vm)) return w;
    if (w.guest().equals(dev.ferry.api.agent.WarmSource.RUNNING)) {
      w = new dev.ferry.api.agent.WarmSource(w.migrationId(), w.export(), w.pass(), w.bitmap(), w.dirtyBytes(),
          dev.ferry.api.agent.WarmSource.SHUTDOWN, 1200L);
      warmSources.put(vm, w);
      become(require(vm), VmState.PAUSED);
    }
    // as the real agent: the final pass prepared the moment the guest is off, when asked for
    if (!w.guest().equals(dev.ferry.api.agent.WarmSource.SHUTDOWN) || request.finalPass() == null) return w;
    return warmSourcePass(vm, new dev.ferry.api.agent.WarmPassRequest(request.migrationId(), request.finalPass()));
  }

  @Override
  public List<dev.ferry.api.agent.DiskHashes> warmSourceHashes(String vm, dev.ferry.api.agent.WarmHashesRequest r) {
    var w = requireWarmSource(vm);
    // as the real agent: before the finish only once the guest is off, and only from what it kept
    if (!w.guest().equals(dev.ferry.api.agent.WarmSource.GONE) && (keepsNoHashes.contains(vm)
        || !w.guest().equals(dev.ferry.api.agent.WarmSource.SHUTDOWN))) {
      throw new Refused(Problem.of(409, "conflict", "the hashes of vm " + vm + " are not all kept; they are computed"
          + " from its disks after the warm source is finished"));
    }
    return definitions.get(vm).disks().stream()
        .map(d -> new dev.ferry.api.agent.DiskHashes(d.id(), 64L << 20, List.of("a", "b"))).toList();
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceFinish(String vm) {
    var w = requireWarmSource(vm);
    var n = new dev.ferry.api.agent.WarmSource(w.migrationId(), w.export(), w.pass(), w.bitmap(), 0,
        dev.ferry.api.agent.WarmSource.GONE, w.shutdownMs());
    warmSources.put(vm, n);
    become(require(vm), VmState.STOPPED);
    return n;
  }

  /** As the real agent: the record dropped; a guest powered off but still in its QEMU boots again. */
  @Override
  public void cancelWarmSource(String vm) {
    var w = warmSources.remove(vm);
    if (w != null && w.guest().equals(dev.ferry.api.agent.WarmSource.SHUTDOWN) && !qemuGone(vm)) {
      become(require(vm), VmState.RUNNING);
    }
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopy(String id, dev.ferry.api.agent.WarmCopyRequest request) {
    var existing = warmCopies.get(id);
    if (existing != null) return existing;
    if (refuseWarmCopy != null) throw new Refused(refuseWarmCopy);
    var images = request.disks().stream().map(d -> new dev.ferry.api.agent.AgentDisk(d.disk(), "/pools/" + name + "/"
        + d.pool() + "/" + request.vm() + "-" + d.disk() + "-" + id.substring(0, 8) + "." + d.format(), d.format()))
        .toList();
    var s = new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.READY, -1, 0, 0, 0, 0, null,
        images, null);
    warmCopies.put(id, s);
    warmCopyVms.put(id, request.vm());
    return s;
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopyPass(String id, dev.ferry.api.agent.WarmPassCopy request) {
    var s = requireWarmCopy(id);
    if (s.state().equals(dev.ferry.api.agent.WarmCopyStatus.CANCELLED)) {
      throw new Refused(Problem.of(409, "conflict", "warm copy " + id + " was cancelled"));
    }
    if (request.pass() == s.pass() && !s.state().equals(dev.ferry.api.agent.WarmCopyStatus.FAILED)) return s;
    calls.add("warm pass " + request.pass() + (request.last() ? " last" : ""));
    var n = new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.COPYING, request.pass(),
        s.copiedBytes(), s.skippedBytes(), 0, request.pass() == 0 ? 64L << 20 : 4L << 20, null, s.disks(), null);
    warmCopies.put(id, n);
    return n;
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopyStatus(String id) {
    var s = requireWarmCopy(id);
    if (!s.state().equals(dev.ferry.api.agent.WarmCopyStatus.COPYING)) return s;
    String error = warmPassError;
    dev.ferry.api.agent.WarmCopyStatus n;
    if (error != null) {
      if (warmPassErrorOnce) warmPassError = null;
      n = new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.FAILED, s.pass(),
          s.copiedBytes(), s.skippedBytes(), 0, s.passPlannedBytes(), null, s.disks(), error);
    } else if (s.pass() >= holdWarmPassFrom) {
      n = new dev.ferry.api.agent.WarmCopyStatus(id, s.state(), s.pass(), s.copiedBytes(), s.skippedBytes(),
          s.passPlannedBytes() / 2, s.passPlannedBytes(), null, s.disks(), null);
    } else {
      n = new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.COPIED, s.pass(),
          s.copiedBytes() + s.passPlannedBytes(), s.skippedBytes(), s.passPlannedBytes(), s.passPlannedBytes(), 100L,
          s.disks(), null);
    }
    warmCopies.put(id, n);
    return n;
  }

  /** As the real agent: the pass stopped, the images and the record deleted; an unknown copy answers cancelled. */
  @Override
  public dev.ferry.api.agent.WarmCopyStatus cancelWarmCopy(String id) {
    var s = warmCopies.remove(id);
    return new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.CANCELLED,
        s == null ? -1 : s.pass(), s == null ? 0 : s.copiedBytes(), 0, 0, 0, null, List.of(), null);
  }

  @Override
  public List<dev.ferry.api.agent.DiskHashes> warmCopyHashes(String id) {
    return requireWarmCopy(id).disks().stream()
        .map(d -> new dev.ferry.api.agent.DiskHashes(d.id(), 64L << 20, List.of("a", "b"))).toList();
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus forgetWarmCopy(String id) {
    var s = warmCopies.remove(id);
    return s != null ? s : new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.COPIED, -1,
        0, 0, 0, 0, null, List.of(), null);
  }

  private dev.ferry.api.agent.WarmCopyStatus requireWarmCopy(String id) {
    var s = warmCopies.get(id);
    if (s == null) throw notFound("no warm copy " + id + " on this host");
    return s;
  }

  /** The agent restarted while a pass ran: as the real agent, the pass is failed from its persisted record. */
  void restartFailsWarmPasses() {
    warmCopies.replaceAll((id, s) -> !s.state().equals(dev.ferry.api.agent.WarmCopyStatus.COPYING) ? s
        : new dev.ferry.api.agent.WarmCopyStatus(id, dev.ferry.api.agent.WarmCopyStatus.FAILED, s.pass(),
            s.copiedBytes(), s.skippedBytes(), 0, 0, null, s.disks(), "the agent restarted during pass " + s.pass()));
  }

  // ---- fault tolerance: a secondary is a record; a protection advances one phase per status read

  /** the secondaries built here, by vm */
  final Map<String, dev.ferry.api.agent.FtSecondaryRequest> ftSecondaries = new ConcurrentHashMap<>();
  /** the primaries' phases and checkpoint counts here, by vm */
  final Map<String, String> ftPhase = new ConcurrentHashMap<>();
  final Map<String, Long> ftCheckpoints = new ConcurrentHashMap<>();
  /** while set, a protected primary's checkpoint count stands still (its secondary is gone) */
  volatile boolean ftCheckpointsFrozen;
  /** when set, the next status of a syncing protection fails with this reason */
  volatile String ftFail;

  @Override
  public dev.ferry.api.agent.FtSecondaryStatus ftSecondary(String vm, dev.ferry.api.agent.FtSecondaryRequest request) {
    ftSecondaries.putIfAbsent(vm, request);
    return ftSecondaryStatus(vm);
  }

  @Override
  public dev.ferry.api.agent.FtSecondaryStatus ftSecondaryStatus(String vm) {
    if (!ftSecondaries.containsKey(vm)) throw notFound("vm '" + vm + "' has no ft secondary here");
    var req = ftSecondaries.get(vm);
    var replicas = new java.util.LinkedHashMap<String, String>();
    for (var d : req.replicas()) {
      replicas.put(d.disk(), "/pools/" + name + "/" + d.pool() + "/" + vm + "-" + d.disk() + "-replica." + d.format());
    }
    var nicPorts = new java.util.ArrayList<dev.ferry.api.agent.FtNicPorts>();
    int nics = req.definition().nics() == null ? 0 : req.definition().nics().size();
    for (int i = 0; i < nics; i++) nicPorts.add(new dev.ferry.api.agent.FtNicPorts(49170 + 2 * i, 49171 + 2 * i));
    return new dev.ferry.api.agent.FtSecondaryStatus(vm, "127.0.0.1", 49160, 49161, 4343L,
        "protected".equals(ftPhaseOfPrimary(vm)) ? "secondary" : "none", 49162, "tok", replicas, nicPorts);
  }

  /** the last protect request per vm, as this primary got it */
  final java.util.Map<String, dev.ferry.api.agent.FtProtectRequest> ftProtects = new java.util.concurrent.ConcurrentHashMap<>();

  /** the secondary hears no heartbeat of the primary since then; null: it hears it */
  volatile java.time.Instant primarySilentSince;
  /** the secondary never heard the primary's fencer (it could not start): no last heartbeat to report */
  volatile boolean primaryNeverHeard;
  /** no checkpoint reached the secondary since then; null: they keep coming */
  volatile java.time.Instant checkpointsSilentSince;
  /** the primary QEMU's COLO connection is closed (its QEMU died) */
  volatile boolean coloStreamClosed;
  /** the primary's view: it hears its secondary's answers no more since then; null: it does */
  volatile java.time.Instant secondarySilentSince;
  /** vms whose secondary took over here */
  final java.util.Set<String> ftTakenOver = ConcurrentHashMap.newKeySet();

  private static long since(java.time.Instant t) {
    return t == null ? 0 : Duration.between(t, java.time.Instant.now()).toMillis();
  }

  @Override
  public dev.ferry.api.agent.FtSecondaryHeartbeat ftSecondaryHeartbeat(String vm) {
    if (ftTakenOver.contains(vm)) return new dev.ferry.api.agent.FtSecondaryHeartbeat(vm, true, null, 0, false, 0, true);
    if (!ftSecondaries.containsKey(vm)) throw notFound("vm '" + vm + "' has no ft secondary here");
    return new dev.ferry.api.agent.FtSecondaryHeartbeat(vm, true, primaryNeverHeard ? null : java.time.Instant.now()
        .minusMillis(since(primarySilentSince)), since(primarySilentSince), !coloStreamClosed, since(checkpointsSilentSince), false);
  }

  @Override
  public AgentVmStatus ftTakeover(String vm) {
    if (ftTakenOver.contains(vm)) return require(vm);
    var req = ftSecondaries.get(vm);
    if (req == null) throw notFound("vm '" + vm + "' has no ft secondary here");
    AgentVmStatus s = new AgentVmStatus(vm, VmState.RUNNING, 4343L, req.definition().memoryBytes(),
        req.memoryGivenBytes(), null, req.definition().machineType(), "tcg");
    vms.put(vm, s);
    definitions.put(vm, req.definition());
    ftSecondaries.remove(vm);
    ftTakenOver.add(vm);
    return s;
  }

  /** when this host fenced each vm's guest */
  final Map<String, java.time.Instant> ftFenced = new ConcurrentHashMap<>();

  @Override
  public dev.ferry.api.agent.FtPrimaryStatus ftFence(String vm) {
    require(vm);
    ftFenced.putIfAbsent(vm, java.time.Instant.now());
    ftPhase.put(vm, dev.ferry.api.agent.FtPrimaryStatus.FENCED);
    return ftStatus(vm);
  }

  /** the phase of the primary of {@code vm}: set on whichever fake hosts it (tests look it up there) */
  volatile java.util.function.Function<String, String> primaryPhase = v -> null;

  private String ftPhaseOfPrimary(String vm) {
    return primaryPhase.apply(vm);
  }

  @Override
  public void removeFtSecondary(String vm) {
    ftSecondaries.remove(vm);
  }

  @Override
  public dev.ferry.api.agent.FtPrimaryStatus ftProtect(String vm, dev.ferry.api.agent.FtProtectRequest request) {
    require(vm);
    ftProtects.put(vm, request);
    ftPhase.putIfAbsent(vm, dev.ferry.api.agent.FtPrimaryStatus.SYNCING);
    return ftStatus(vm);
  }

  @Override
  public dev.ferry.api.agent.FtPrimaryStatus ftStatus(String vm) {
    require(vm);
    String phase = ftPhase.getOrDefault(vm, dev.ferry.api.agent.FtPrimaryStatus.NONE);
    String reason = null;
    String next = switch (phase) {
      case dev.ferry.api.agent.FtPrimaryStatus.SYNCING -> ftFail != null ? dev.ferry.api.agent.FtPrimaryStatus.FAILED
          : dev.ferry.api.agent.FtPrimaryStatus.PROTECTING;
      case dev.ferry.api.agent.FtPrimaryStatus.PROTECTING -> dev.ferry.api.agent.FtPrimaryStatus.PROTECTED;
      default -> phase;
    };
    if (next.equals(dev.ferry.api.agent.FtPrimaryStatus.FAILED)) reason = ftFail;
    if (!next.equals(dev.ferry.api.agent.FtPrimaryStatus.NONE)) ftPhase.put(vm, next);
    long n = !next.equals(dev.ferry.api.agent.FtPrimaryStatus.PROTECTED) ? 0
        : ftCheckpointsFrozen ? ftCheckpoints.getOrDefault(vm, 0L) : ftCheckpoints.merge(vm, 1L, Long::sum);
    if (next.equals(dev.ferry.api.agent.FtPrimaryStatus.FENCED)) reason = "fenced: asked by the controller";
    return new dev.ferry.api.agent.FtPrimaryStatus(vm, next, null, null, null, n, n > 0 ? 50L : null, n > 0 ? 90L : null,
        n > 0 ? java.time.Instant.now() : null, null, reason, secondarySilentSince == null ? 0L : since(secondarySilentSince),
        ftFenced.get(vm));
  }

  @Override
  public dev.ferry.api.agent.FtPrimaryStatus ftUnprotect(String vm) {
    require(vm);
    ftPhase.remove(vm);
    ftCheckpoints.remove(vm);
    return new dev.ferry.api.agent.FtPrimaryStatus(vm, dev.ferry.api.agent.FtPrimaryStatus.NONE, null, null, null, 0, null,
        null, null, null, null);
  }
}
