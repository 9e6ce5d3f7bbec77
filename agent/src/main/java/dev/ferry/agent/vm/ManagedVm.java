package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.LaunchOptions;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.StopOutcome;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.machine.Quit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VM of this host: its persisted record, its QEMU process when one runs, and its state.
 *
 * <p>Two locks with different jobs. {@link #actions} serialises what users ask for (define,
 * start, stop, kill, delete), so a stop never interleaves with a start; it may be held for as
 * long as a graceful stop takes. The object monitor guards the fields and is held only briefly,
 * because QMP events and the process-exit watcher update the state from their own threads while
 * an action waits.
 *
 * <p>State: RUNNING/PAUSED come from {@code query-status} when a process is attached and from the
 * {@code STOP}/{@code RESUME} events afterwards. A process exit that Ferry did not ask for is
 * STOPPED after the guest's own {@code SHUTDOWN}, CRASHED otherwise.
 */
final class ManagedVm {

  private static final Logger log = LoggerFactory.getLogger(ManagedVm.class);
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  static final Duration ADOPT_TIMEOUT = Duration.ofSeconds(10);

  private final String name;
  private final Path dir;
  private final RunDir run;
  private final QemuHost host;
  private final ReentrantLock actions = new ReentrantLock();

  private VmRecord record;
  private VmState state;
  private QemuProcess process;
  private QmpSubscription events;
  /** Ferry asked the current process to end; its exit is the action's business, not a crash */
  private boolean stopRequested;
  /** the guest shut itself down; the exit that follows is a clean stop */
  private boolean guestShutdown;
  private boolean deleted;
  /** this agent let go of the VM (agent shutdown); only a new agent may change its state now */
  private boolean detached;
  /** a live QEMU of this VM whose QMP did not answer on adoption: UNKNOWN until adopted */
  private Unreachable unreachable;
  /** a kill came while QEMU was being started: the start kills what it started */
  private boolean killPending;
  /** what holds the action lock, and since when: for the message of whoever waits in vain */
  private volatile String holder = "nothing";
  private volatile long holderSinceNanos;

  /** A live QEMU this agent cannot talk to: its pid (so kill still works) and why adoption failed. */
  record Unreachable(long pid, String why) {}

  ManagedVm(Path dir, VmRecord record, QemuHost host) {
    this.name = record.spec().name();
    this.dir = dir;
    this.run = new RunDir(dir.resolve("run"));
    this.host = host;
    this.record = record;
    this.state = record.state();
  }

  static Path recordFile(Path dir) {
    return dir.resolve("vm.json");
  }

  String name() {
    return name;
  }

  RunDir runDir() {
    return run;
  }

  Path dir() {
    return dir;
  }

  synchronized VmRecord record() {
    return record;
  }

  /** Whether a QEMU of this VM runs, attached or not reachable over QMP (its disks are in use either way). */
  synchronized boolean running() {
    return process != null || unreachable != null;
  }

  /**
   * Runs an action alone on this VM, waiting at most {@code wait} for the one under way: no caller
   * waits without a deadline, and the refusal says what holds the VM and for how long.
   */
  <T> T exclusive(String what, Duration wait, Supplier<T> action) {
    boolean got;
    try {
      got = actions.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted waiting to " + what + " vm " + name, e);
    }
    if (!got) {
      throw new AgentException(Kind.CONFLICT, "cannot " + what + " vm " + name + ": it is busy with " + holder + " for "
          + (System.nanoTime() - holderSinceNanos) / 1_000_000 + " ms; gave up waiting after " + wait.toMillis() + " ms");
    }
    String outer = holder;
    long outerSince = holderSinceNanos;
    holder = what;
    holderSinceNanos = System.nanoTime();
    try {
      synchronized (this) {
        if (deleted) throw new AgentException(Kind.NOT_FOUND, "vm " + name + " does not exist");
      }
      return action.get();
    } finally {
      holder = outer;
      holderSinceNanos = outerSince;
      actions.unlock();
    }
  }

  /**
   * Re-attaches to a QEMU an earlier agent started, without stopping or resuming the guest. True
   * when settled (adopted, or no QEMU runs); false when a live QEMU did not answer on QMP: the VM
   * is UNKNOWN then, never CRASHED (a start would launch a second QEMU on the same disks), and
   * the caller tries again later.
   */
  boolean adopt(Duration timeout) {
    synchronized (this) {
      if (deleted || detached || process != null) return true;
    }
    Optional<ProcessHandle> live = QemuProcess.livePid(run);
    if (live.isEmpty()) {
      synchronized (this) {
        unreachable = null;
      }
      // no live QEMU: if it was meant to run, it died while no agent was watching
      transition(switch (record().state()) {
        case RUNNING, PAUSED, STARTING, CRASHED, UNKNOWN -> VmState.CRASHED;
        case STOPPED, STOPPING -> VmState.STOPPED;
      });
      return true;
    }
    QemuProcess adopted;
    try {
      adopted = QemuProcess.adopt(name, run, timeout).orElse(null);
    } catch (QmpException | AgentException e) {
      boolean first;
      synchronized (this) {
        first = unreachable == null;
        unreachable = new Unreachable(live.get().pid(), e.getMessage());
      }
      if (first) {
        log.error("vm {}: qemu pid {} runs but does not answer on {} ({}); state unknown until it does", name,
            live.get().pid(), run.qmpSocket(), e.getMessage());
      }
      transition(VmState.UNKNOWN);
      return false;
    }
    if (adopted == null) return adopt(timeout); // it ended between the two looks
    synchronized (this) {
      if (deleted || detached || process != null) {
        adopted.close();
        return true;
      }
      unreachable = null;
    }
    attach(adopted);
    return true;
  }

  /** Whether adoption must be tried again: a QEMU runs that QMP did not reach, and the VM is still ours. */
  synchronized boolean unreachable() {
    return unreachable != null && !deleted && !detached;
  }

  synchronized void refuseUnreachable(String action) {
    if (unreachable != null) {
      throw new AgentException(Kind.CONFLICT, "cannot " + action + " vm " + name + ": its qemu pid " + unreachable.pid()
          + " runs but does not answer on qmp (" + unreachable.why() + "); its state is unknown and adoption is retried;"
          + " kill the vm to end that qemu");
    }
  }

  void redefine(VmRecord newRecord) {
    refuseUnreachable("redefine");
    synchronized (this) {
      if (process != null) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is " + state.name().toLowerCase(Locale.ROOT)
            + "; stop it before redefining it");
      }
      record = newRecord.withState(state == VmState.CRASHED ? VmState.STOPPED : state);
      state = record.state();
      JsonFiles.write(recordFile(dir), record);
    }
  }

  AgentVmStatus start() {
    refuseUnreachable("start");
    VmRecord current;
    synchronized (this) {
      killPending = false;
      if (process != null) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is already " + state.name().toLowerCase(Locale.ROOT)
            + " (qemu pid " + process.pid() + ")");
      }
      current = record;
    }
    MemoryPlan plan = host.plan(current.spec().memoryBytes());
    plan.adjustment().ifPresent(why -> log.info("vm {}: {}", name, why));
    synchronized (this) {
      record = record.withLaunch(plan, host.accelerator());
    }
    transition(VmState.STARTING);
    QemuProcess started;
    try {
      started = QemuProcess.start(host.qemu(), current.spec(), run, LaunchOptions.running(host.accelerator(), plan),
          START_TIMEOUT);
    } catch (RuntimeException e) {
      transition(VmState.STOPPED);
      throw e;
    }
    return attachUnlessKilled(started);
  }

  /**
   * Starts QEMU waiting for an incoming live migration ({@code -incoming defer -S}) with exactly
   * {@code plan}'s RAM: the source's size, not this host's own plan, so both RAM blocks match.
   */
  AgentVmStatus startIncoming(MemoryPlan plan) {
    refuseUnreachable("start");
    VmRecord current;
    synchronized (this) {
      killPending = false;
      if (process != null) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is already " + state.name().toLowerCase(Locale.ROOT)
            + " (qemu pid " + process.pid() + ")");
      }
      current = record;
      record = record.withLaunch(plan, host.accelerator());
    }
    transition(VmState.STARTING);
    QemuProcess started;
    try {
      started = QemuProcess.start(host.qemu(), current.spec(), run, new LaunchOptions(host.accelerator(), plan, true, true),
          START_TIMEOUT);
    } catch (RuntimeException e) {
      transition(VmState.STOPPED);
      throw e;
    }
    return attachUnlessKilled(started);
  }

  /** A kill that came while QEMU started (it found no process to kill) ends what was started. */
  private AgentVmStatus attachUnlessKilled(QemuProcess started) {
    boolean killed;
    synchronized (this) {
      killed = killPending;
      killPending = false;
    }
    if (killed) {
      started.kill();
      transition(VmState.STOPPED);
      throw new AgentException(Kind.CONFLICT, "vm " + name + " was killed while it started (qemu pid " + started.pid() + ")");
    }
    attach(started);
    return status();
  }

  /**
   * Ends QEMU with {@code quit}, no power button: for a migrated source whose guest now runs on
   * another host and must never run here again. SIGKILL when QEMU does not exit.
   */
  AgentVmStatus quit() {
    QemuProcess p = beginStop();
    if (p == null) return status();
    try {
      p.qmp().call(new Quit(), Duration.ofSeconds(5));
    } catch (QmpException e) {
      log.info("vm {}: quit: {}", name, e.getMessage());
    }
    if (p.awaitExit(Duration.ofSeconds(5))) p.stop(Duration.ZERO); // only removes the runtime files
    else p.kill();
    endStop(p, "quit");
    return status();
  }

  AgentVmStatus stop(Duration graceful) {
    refuseUnreachable("stop");
    QemuProcess p = beginStop();
    if (p == null) return status();
    StopOutcome outcome = p.stop(graceful);
    endStop(p, "stopped (" + outcome.name().toLowerCase(Locale.ROOT) + ")");
    return status();
  }

  /**
   * SIGKILL, without the action lock: a kill must work within seconds whatever else runs (a
   * graceful stop still waiting for the guest, a start, a migration), and killing is safe to race
   * with them: the stop sees its process gone, the start kills what it started.
   */
  AgentVmStatus kill() {
    Unreachable lost;
    synchronized (this) {
      lost = unreachable;
      if (process == null && state == VmState.STARTING) killPending = true;
    }
    if (lost != null) {
      ProcessHandle.of(lost.pid()).ifPresent(ProcessHandle::destroyForcibly);
      boolean gone = ProcessHandle.of(lost.pid()).map(h -> h.onExit().completeOnTimeout(h, 5, TimeUnit.SECONDS).join())
          .map(h -> !h.isAlive()).orElse(true);
      if (!gone) {
        throw new AgentException(Kind.INTERNAL, "qemu pid " + lost.pid() + " of vm " + name + " survived SIGKILL for 5 s");
      }
      synchronized (this) {
        unreachable = null;
      }
      transition(VmState.STOPPED);
      log.info("vm {}: unreachable qemu pid {} killed by request", name, lost.pid());
      return status();
    }
    QemuProcess p = beginStop();
    if (p == null) return status();
    p.kill();
    endStop(p, "killed");
    return status();
  }

  synchronized AgentVmStatus status() {
    VmRecord.PlannedMemory mem = record.memory() != null ? record.memory()
        : VmRecord.PlannedMemory.of(host.plan(record.spec().memoryBytes()));
    var accel = record.accelerator() != null ? record.accelerator() : host.accelerator();
    Long pid = process != null ? Long.valueOf(process.pid()) : unreachable != null ? Long.valueOf(unreachable.pid()) : null;
    return new AgentVmStatus(name, state, pid, mem.requestedBytes(),
        mem.givenBytes(), mem.adjustment(), record.spec().machineType(), accel.name().toLowerCase(Locale.ROOT));
  }

  /** Marks the VM gone; the caller holds the action lock and has checked it is stopped. */
  synchronized void markDeleted() {
    deleted = true;
  }

  /** Drops the QMP connection and leaves QEMU running, as an agent crash would. */
  synchronized void detach() {
    detached = true;
    closeEvents();
    if (process != null) process.close();
    process = null;
  }

  List<Path> diskPaths() {
    return record().spec().disks().stream().map(d -> Path.of(d.path())).toList();
  }

  /** The attached QEMU, or null when none runs (or this agent let go of it). */
  synchronized QemuProcess process() {
    return process;
  }

  /** The block nodes the running QEMU uses for disk {@code id} (those of the command line unless a move changed them). */
  synchronized BlockNodes nodes(DiskSpec disk) {
    BlockNodes live = record.liveNodes().get(disk.id());
    return live != null ? live : BlockNodes.initial(disk);
  }

  /**
   * Points disk {@code id} at another image, persisted at once: the next start boots from it. With
   * {@code liveNodes} the running QEMU already uses that image through those nodes.
   */
  synchronized void switchDisk(String id, Path image, DiskFormat format, BlockNodes liveNodes) {
    var disks = new ArrayList<DiskSpec>();
    for (DiskSpec d : record.spec().disks()) {
      disks.add(d.id().equals(id) ? new DiskSpec(id, image.toString(), format) : d);
    }
    AgentVmDefinition def = record.definition();
    List<AgentDisk> defDisks = def.disks() == null ? List.of() : def.disks();
    var newDefDisks = new ArrayList<AgentDisk>();
    for (int i = 0; i < defDisks.size(); i++) {
      AgentDisk d = defDisks.get(i);
      String did = d.id() == null ? "disk" + i : d.id();
      newDefDisks.add(did.equals(id) ? new AgentDisk(did, image.toString(), format.driver()) : d);
    }
    var newDef = new AgentVmDefinition(def.name(), def.cpus(), def.memoryBytes(), def.machineType(), def.cpuModel(),
        def.kernel(), def.initrd(), def.append(), newDefDisks);
    var nodes = new HashMap<>(record.liveNodes());
    if (liveNodes != null) nodes.put(id, liveNodes);
    else nodes.remove(id);
    record = record.withDisk(newDef, record.spec().withDisks(disks), nodes);
    JsonFiles.write(recordFile(dir), record);
    log.info("vm {}: disk {} is now {} ({}){}", name, id, image, format.driver(),
        liveNodes == null ? "" : ", live nodes " + liveNodes.file() + "/" + liveNodes.format());
  }

  private synchronized QemuProcess beginStop() {
    if (process == null) return null;
    stopRequested = true;
    transition(VmState.STOPPING);
    return process;
  }

  private void endStop(QemuProcess p, String how) {
    synchronized (this) {
      if (process == p) {
        process = null;
        closeEvents();
      }
      transition(VmState.STOPPED);
    }
    log.info("vm {}: {} by request", name, how);
  }

  private void attach(QemuProcess p) {
    synchronized (this) {
      process = p;
      stopRequested = false;
      guestShutdown = false;
      events = p.qmp().subscribe(e -> onEvent(p, e));
    }
    ProcessHandle.of(p.pid()).ifPresentOrElse(
        h -> h.onExit().thenRun(() -> onExit(p)),
        () -> onExit(p));
    try {
      QueryStatus.StatusInfo st = p.qmp().call(new QueryStatus());
      synchronized (this) {
        if (process == p) transition(st.running() ? VmState.RUNNING : VmState.PAUSED);
      }
    } catch (QmpException e) {
      // the exit watcher decides what an unanswering QEMU means; the state stays as it was
      log.warn("vm {}: query-status failed after attaching to qemu pid {}: {}", name, p.pid(), e.getMessage());
    }
  }

  private void onEvent(QemuProcess p, QmpEvent event) {
    synchronized (this) {
      if (process != p) return;
      switch (event.name()) {
        case "STOP" -> {
          if (state == VmState.RUNNING) transition(VmState.PAUSED);
        }
        case "RESUME" -> {
          if (state == VmState.PAUSED || state == VmState.STARTING) transition(VmState.RUNNING);
        }
        case "SHUTDOWN" -> {
          guestShutdown = true;
          log.info("vm {}: qemu reports shutdown ({})", name, event.data());
        }
        default -> log.debug("vm {}: event {} {}", name, event.name(), event.data());
      }
    }
  }

  private void onExit(QemuProcess p) {
    synchronized (this) {
      // not ours any more (restarted, or the agent let go), or the stop action finishes it
      if (process != p || stopRequested) return;
      process = null;
      closeEvents();
      if (guestShutdown) {
        log.info("vm {}: guest shut down, qemu pid {} exited", name, p.pid());
        transition(VmState.STOPPED);
      } else {
        log.error("vm {}: qemu pid {} exited unexpectedly; qemu.log: {}", name, p.pid(), tail(run.qemuLog()));
        transition(VmState.CRASHED);
      }
      // the process is gone: this only removes its socket and pid file, before a new start can
      // create them (start checks for a process under this monitor)
      p.stop(Duration.ZERO);
    }
  }

  private void closeEvents() {
    if (events != null) {
      events.close();
      events = null;
    }
  }

  private synchronized void transition(VmState next) {
    if (deleted || detached) return;
    if (next != state) log.info("vm {}: {} -> {}", name, state.name().toLowerCase(Locale.ROOT), next.name().toLowerCase(Locale.ROOT));
    state = next;
    if (record.state() != next || !Files.exists(recordFile(dir))) {
      record = record.withState(next);
      JsonFiles.write(recordFile(dir), record);
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 10), lines.size())).strip();
    } catch (java.io.IOException e) {
      return "(no qemu log at " + log + ")";
    }
  }
}
