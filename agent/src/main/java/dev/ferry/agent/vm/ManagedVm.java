package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.ft.ColoDisks;
import dev.ferry.agent.net.Taps;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskLayout;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.LaunchOptions;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.StagedDisks;
import dev.ferry.agent.qemu.StopOutcome;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.Quit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One VM of this host: its persisted record, its QEMU process when one runs, and its state.
 *
 * <p>Two locks with different jobs. The {@link ActionLock} serialises what users ask for (define,
 * start, stop, delete), so a stop never interleaves with a start; it may be held for as long as a
 * graceful stop takes. The object monitor guards the fields and is held only briefly, because QMP
 * events and the process-exit watcher ({@link QemuWatch}) update the state from their own threads
 * while an action waits; {@link Adoption} re-attaches to a QEMU an earlier agent started. Both
 * work on this object's fields under its monitor.
 */
final class ManagedVm {

  private static final Logger log = LoggerFactory.getLogger(ManagedVm.class);
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  static final Duration ADOPT_TIMEOUT = Duration.ofSeconds(10);
  /** how long the guest's SHUTDOWN event may trail its QEMU's exit */
  static final Duration SHUTDOWN_EVENT_GRACE = Duration.ofSeconds(1);

  private final String name;
  private final Path dir;
  private final RunDir run;
  private final QemuHost host;
  private final ActionLock actions;
  final QemuWatch watch = new QemuWatch(this);
  private final Adoption adoption = new Adoption(this);
  private final StagedStart staged = new StagedStart(this);

  // the fields below are guarded by this object's monitor; QemuWatch and Adoption share them
  private VmRecord record;
  VmState state;
  QemuProcess process;
  QmpSubscription events;
  /** Ferry asked the current process to end; its exit is the action's business, not a crash */
  boolean stopRequested;
  /** the guest powered itself off (its page cache on its disks); the exit that follows is a clean stop */
  boolean guestShutdown;
  /** how the last QEMU ended without a clean stop (pid, status or signal); kept in memory only */
  String lastExit;
  boolean deleted;
  /** this agent let go of the VM (agent shutdown); only a new agent may change its state now */
  boolean detached;
  /** a live QEMU of this VM whose QMP did not answer on adoption: UNKNOWN until adopted */
  Adoption.Unreachable unreachable;
  /** a kill came while QEMU was being started: the start kills what it started */
  private boolean killPending;

  ManagedVm(Path dir, VmRecord record, QemuHost host) {
    this.name = record.spec().name();
    this.dir = dir;
    this.run = new RunDir(dir.resolve("run"));
    this.host = host;
    this.actions = new ActionLock(name);
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
    return actions.exclusive(what, wait, () -> {
      synchronized (this) {
        if (deleted) throw new AgentException(Kind.NOT_FOUND, "vm " + name + " does not exist");
      }
    }, action);
  }

  /** See {@link Adoption#adopt}: true when settled, false when a live QEMU did not answer and adoption must be retried. */
  boolean adopt(Duration timeout) {
    return adoption.adopt(timeout);
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
      // the same definition again changes nothing, so it needs no stop (a cutover repeated after a restart)
      if (process != null && newRecord.definition().equals(record.definition())) return;
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
    QemuProcess staged = stagedProcess();
    if (staged != null) return resumeStaged(staged);
    VmRecord current = claimStart();
    MemoryPlan plan = host.plan(current.spec().memoryBytes());
    plan.adjustment().ifPresent(why -> log.info("vm {}: {}", name, why));
    return launch(current, plan, LaunchOptions.running(host.accelerator(), plan), null);
  }

  /**
   * Starts QEMU waiting for an incoming live migration ({@code -incoming defer -S}) with exactly
   * {@code plan}'s RAM: the source's size, not this host's own plan, so both RAM blocks match.
   */
  AgentVmStatus startIncoming(MemoryPlan plan) {
    refuseUnreachable("start");
    VmRecord current = claimStart();
    return launch(current, plan, new LaunchOptions(host.accelerator(), plan, true, true), null);
  }

  /**
   * Starts QEMU paused with its disks staged ({@link StagedDisks}) of the given virtual sizes: a
   * warm cutover's target, while the guest still runs on the source. {@link #start} then attaches
   * the disks and resumes it. A repeat while that QEMU waits answers its status.
   */
  AgentVmStatus stage(Supplier<Map<String, Long>> sizes) {
    refuseUnreachable("stage");
    if (stagedProcess() != null) return status();
    VmRecord current = claimStart();
    MemoryPlan plan = host.plan(current.spec().memoryBytes());
    plan.adjustment().ifPresent(why -> log.info("vm {}: {}", name, why));
    AgentVmStatus st = launch(current, plan, new LaunchOptions(host.accelerator(), plan, true, false),
        StagedDisks.layout(sizes.get()));
    staged.launched();
    return st;
  }

  /** The QEMU of this VM while it waits for its disks or its first boot ({@link #stage}), else null. */
  QemuProcess stagedProcess() {
    return staged.process();
  }

  /** {@link StagedStart#attach} */
  AgentVmStatus attachStaged(QemuProcess p) {
    return staged.attach(p);
  }

  /** {@link StagedStart#openForFinalPass} on this VM's run directory; the socket, or null when nothing is exported. */
  Path openStagedForFinalPass(QemuProcess p) {
    Path socket = run.finalPassSocket();
    return staged.openForFinalPass(p, socket) ? socket : null;
  }

  /** {@link StagedStart#resume} */
  AgentVmStatus resumeStaged(QemuProcess p) {
    return staged.resume(p);
  }

  /** The record to start from; refused while a QEMU of this VM runs. */
  private synchronized VmRecord claimStart() {
    killPending = false;
    if (process != null) {
      throw new AgentException(Kind.CONFLICT, "vm " + name + " is already " + state.name().toLowerCase(Locale.ROOT)
          + " (qemu pid " + process.pid() + ")");
    }
    return record;
  }

  /** With {@code layout} null, the disks as the VM's definition lays them out. */
  private AgentVmStatus launch(VmRecord current, MemoryPlan plan, LaunchOptions options, DiskLayout layout) {
    synchronized (this) {
      record = record.withLaunch(plan, host.accelerator());
    }
    transition(VmState.STARTING);
    QemuProcess started;
    try {
      // an FT-ready VM: its disks under a quorum from boot, on the QEMU that passed the COLO probe
      started = current.definition().ft()
          ? QemuProcess.start(host.ft().installation(name), current.spec(), run, options, START_TIMEOUT, host.user(),
              ColoDisks.PRIMARY)
          : QemuProcess.start(host.qemu(), current.spec(), run, options, START_TIMEOUT, host.user(),
              layout != null ? layout : DiskLayout.PLAIN);
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
    watch.attach(started);
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
   * The power button until the guest powers off or {@code graceful} has passed, and nothing
   * harder: a guest that refuses is left running as it was (state back to running). A QEMU that
   * ends without the guest's own power-off (killed, crashed) is no power-off: its guest's unwritten
   * data never reached the disks, so the VM is crashed and the request refused saying how it ended.
   */
  AgentVmStatus powerDown(Duration graceful) {
    refuseUnreachable("power down");
    QemuProcess p = beginStop();
    if (p == null) return status();
    if (p.powerDown(graceful)) {
      if (!awaitGuestPowerOff()) {
        String how = endCrashed(p);
        throw new AgentException(Kind.CONFLICT, "the qemu of vm " + name + " died after the power button was"
            + " pressed, before its guest powered off: " + how + "; what the guest had not written is not on its"
            + " disks, which are left as they are; the vm is crashed");
      }
      endStop(p, "powered off");
      return status();
    }
    synchronized (this) {
      stopRequested = false; // an exit from now on is the guest's own
      if (process == p) transition(VmState.RUNNING);
    }
    log.info("vm {}: the guest did not power off within {} ms; left running", name, graceful.toMillis());
    return status();
  }

  /**
   * SIGKILL, without the action lock: a kill must work within seconds whatever else runs (a
   * graceful stop still waiting for the guest, a start, a migration), and killing is safe to race
   * with them: the stop sees its process gone, the start kills what it started.
   */
  AgentVmStatus kill() {
    Adoption.Unreachable lost;
    synchronized (this) {
      lost = unreachable;
      if (process == null && state == VmState.STARTING) killPending = true;
    }
    if (lost != null) {
      adoption.kill(lost);
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
    watch.closeEvents();
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
    record = DiskSwitch.apply(record, id, image, format, liveNodes);
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

  /**
   * Whether the guest's own {@code SHUTDOWN} came before its QEMU exited. The event is handed to
   * {@link QemuWatch} on a thread of its own and may trail the exit by a moment: a short wait.
   */
  private boolean awaitGuestPowerOff() {
    long until = System.nanoTime() + SHUTDOWN_EVENT_GRACE.toNanos();
    while (true) {
      synchronized (this) {
        if (guestShutdown) return true;
      }
      if (System.nanoTime() > until) return false;
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
  }

  /** The requested stop ended in QEMU's death instead: CRASHED, and how it ended. */
  private String endCrashed(QemuProcess p) {
    String how = p.exitDescription();
    synchronized (this) {
      if (process == p) {
        process = null;
        watch.closeEvents();
      }
      lastExit = how;
      transition(VmState.CRASHED);
    }
    log.error("vm {}: {} before the guest powered off", name, how);
    return how;
  }

  /** How the last QEMU ended when it crashed, if this agent saw it end. */
  synchronized java.util.Optional<String> lastExit() {
    return state == VmState.CRASHED ? java.util.Optional.ofNullable(lastExit) : java.util.Optional.empty();
  }

  private void endStop(QemuProcess p, String how) {
    synchronized (this) {
      if (process == p) {
        process = null;
        watch.closeEvents();
      }
      transition(VmState.STOPPED);
    }
    log.info("vm {}: {} by request", name, how);
  }

  synchronized void transition(VmState next) {
    // no QEMU of this VM runs any more (or none started): its taps go with it; a detached agent
    // leaves QEMU running, taps included
    if ((next == VmState.STOPPED || next == VmState.CRASHED) && !detached) Taps.down(name, record.spec().nics());
    if (deleted || detached) return;
    if (next != state) log.info("vm {}: {} -> {}", name, state.name().toLowerCase(Locale.ROOT), next.name().toLowerCase(Locale.ROOT));
    state = next;
    if (record.state() != next || !Files.exists(recordFile(dir))) {
      record = record.withState(next);
      JsonFiles.write(recordFile(dir), record);
    }
  }
}
