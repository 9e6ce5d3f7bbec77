package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.pool.ImageChain;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.Names;
import dev.ferry.api.VmState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The VMs of this host, one directory each under {@code DIR/vms}. On load every VM whose run
 * directory has a live QEMU is adopted as it is: no stop, no cont, so the guest does not notice
 * that its agent was restarted.
 */
public final class Vms {

  private static final Logger log = LoggerFactory.getLogger(Vms.class);

  private final Path root;
  private final String hostName;
  private final Pools pools;
  private final QemuHost host;
  /** how long a user action waits for the one under way on the same VM before it is refused */
  public static final Duration ACTION_WAIT = Duration.ofSeconds(30);

  private final Map<String, ManagedVm> vms = new ConcurrentSkipListMap<>();
  private final Readoption readoption = new Readoption();
  private final List<KillListener> killListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile StartGuard startGuard = vm -> {};
  private final List<ActionGuard> actionGuards = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Asked before every start, stop, kill, redefine and delete a user asks for, under the VM's
   * action lock; throws to refuse it (e.g. 409 while the VM migrates).
   */
  @FunctionalInterface
  public interface ActionGuard {
    void check(String vmName, String action);
  }

  /** Adds a check to every user action on a VM (see {@link ActionGuard}). */
  public void guardActions(ActionGuard guard) {
    actionGuards.add(java.util.Objects.requireNonNull(guard, "guard"));
  }

  private void checkGuards(String name, String action) {
    for (ActionGuard g : actionGuards) g.check(name, action);
  }

  /** Told after a kill a user asked for, e.g. to abort the VM's migration; must not block for long. */
  @FunctionalInterface
  public interface KillListener {
    void killed(String vmName);
  }

  /** Adds a listener to every kill (see {@link KillListener}). */
  public void onKill(KillListener listener) {
    killListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /** Asked before every start, under the VM's action lock; throws to refuse it. */
  @FunctionalInterface
  public interface StartGuard {
    void check(String vmName);
  }

  private Vms(Path root, String hostName, Pools pools, QemuHost host) {
    this.root = root;
    this.hostName = hostName;
    this.pools = pools;
    this.host = host;
  }

  /** Loads every {@code DIR/vms/NAME/vm.json} and re-adopts the QEMUs still running. */
  public static Vms load(Path dataDir, String hostName, Pools pools, QemuHost host) {
    var vms = new Vms(dataDir.resolve("vms"), hostName, pools, host);
    if (!Files.isDirectory(vms.root)) return vms;
    try (Stream<Path> dirs = Files.list(vms.root)) {
      for (Path dir : dirs.sorted().toList()) {
        Path file = ManagedVm.recordFile(dir);
        if (!Files.isRegularFile(file)) continue;
        try {
          var vm = new ManagedVm(dir, JsonFiles.read(file, VmRecord.class), host);
          if (!vm.adopt(ManagedVm.ADOPT_TIMEOUT)) vms.readoption.retry(vm);
          vms.vms.put(vm.name(), vm);
        } catch (RuntimeException e) {
          // one broken vm.json must not keep the agent, and every other VM, from starting
          log.error("skipping vm in {}: {}", dir, e.getMessage());
        }
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot list " + vms.root + ": " + e.getMessage(), e);
    }
    return vms;
  }

  /** Defines a new VM or redefines a stopped one; {@code created} tells which. */
  public record Defined(AgentVmStatus status, boolean created) {}

  public Defined define(String name, AgentVmDefinition def) {
    VmSpec spec = VmDefinitions.toSpec(name, def, pools, host.qemu(), hostName);
    var record = new VmRecord(def, spec, null, null, VmState.STOPPED);
    synchronized (vms) {
      ManagedVm existing = vms.get(name);
      if (existing == null) {
        Path dir = root.resolve(name);
        var vm = new ManagedVm(dir, record, host);
        JsonFiles.write(ManagedVm.recordFile(dir), record);
        vms.put(name, vm);
        log.info("vm {}: defined ({} cpus, {} bytes, {})", name, spec.cpus(), spec.memoryBytes(), spec.machineType());
        return new Defined(vm.status(), true);
      }
    }
    ManagedVm vm = get(name);
    return vm.exclusive("redefine", ACTION_WAIT, () -> {
      checkGuards(name, "redefine");
      vm.redefine(record);
      log.info("vm {}: redefined", name);
      return new Defined(vm.status(), false);
    });
  }

  /**
   * The spec {@code def} would give a VM of this host, every field checked as {@link #define}
   * checks it, without defining anything (a COLO secondary runs from it outside this list).
   */
  /** Where the QEMU of VM {@code name} keeps its runtime files once the VM is this host's. */
  public dev.ferry.agent.qemu.RunDir runDirOf(String name) {
    return new dev.ferry.agent.qemu.RunDir(root.resolve(name).resolve("run"));
  }

  /**
   * A COLO secondary that took over becomes this host's VM as it runs: its record is written
   * (state running, the memory it was given) and its QEMU, started in {@link #runDirOf} for this
   * moment, is watched like any other; no stop, no cont. Refused when the name is taken here.
   */
  public AgentVmStatus adoptTakenOver(String name, AgentVmDefinition def, dev.ferry.agent.qemu.MemoryPlan plan,
      dev.ferry.agent.qemu.QemuProcess process) {
    VmSpec spec = VmDefinitions.toSpec(name, def, pools, host.qemu(), hostName);
    var record = new VmRecord(def, spec, VmRecord.PlannedMemory.of(plan), host.accelerator(), VmState.RUNNING);
    ManagedVm vm;
    synchronized (vms) {
      if (vms.containsKey(name)) throw new AgentException(Kind.CONFLICT, "vm " + name + " is already defined on this host");
      Path dir = root.resolve(name);
      vm = new ManagedVm(dir, record, host);
      JsonFiles.write(ManagedVm.recordFile(dir), record);
      vms.put(name, vm);
    }
    vm.watch.attach(process);
    log.info("vm {}: taken over from its COLO primary, qemu pid {} runs on here", name, process.pid());
    return vm.status();
  }

  public VmSpec specOf(String name, AgentVmDefinition def) {
    return VmDefinitions.toSpec(name, def, pools, host.qemu(), hostName);
  }

  public List<AgentVmStatus> list() {
    return vms.values().stream().map(ManagedVm::status).toList();
  }

  public AgentVmStatus status(String name) {
    return get(name).status();
  }

  public AgentVmStatus start(String name) {
    ManagedVm vm = get(name);
    return vm.exclusive("start", ACTION_WAIT, () -> {
      startGuard.check(name);
      checkGuards(name, "start");
      // a staged VM's images were checked when it was staged, and only Ferry's passes wrote them since
      QemuProcess staged = vm.stagedProcess();
      if (staged != null) return vm.resumeStaged(staged);
      checkImages(vm);
      return vm.start();
    });
  }

  /**
   * {@link ManagedVm#stage}: QEMU started paused, its disks staged, sized from the images as they
   * are now (a warm copy made them at the source's sizes). A VM under fault tolerance is left as it
   * is: its disks need their quorum from boot, so it starts plainly later.
   */
  public AgentVmStatus stage(String name) {
    ManagedVm vm = get(name);
    return vm.exclusive("stage", ACTION_WAIT, () -> {
      startGuard.check(name);
      checkGuards(name, "start");
      if (vm.record().definition().ft()) return vm.status();
      checkImages(vm);
      return vm.stage(() -> {
        var sizes = new HashMap<String, Long>();
        for (var d : vm.record().spec().disks()) {
          sizes.put(d.id(), ImageChain.virtualSize(Path.of(d.path()), d.format().driver(), host.qemu().imgBinary()));
        }
        return sizes;
      });
    });
  }

  /**
   * {@link ManagedVm#attachStaged}: a staged VM's images under its devices, its guest still paused.
   * A VM with nothing staged (its QEMU died, or it was never staged) answers its status unchanged:
   * its start is then a plain one.
   */
  public AgentVmStatus attachStaged(String name) {
    ManagedVm vm = get(name);
    return vm.exclusive("attach the staged disks of", ACTION_WAIT, () -> {
      checkGuards(name, "start");
      QemuProcess staged = vm.stagedProcess();
      return staged == null ? vm.status() : vm.attachStaged(staged);
    });
  }

  /** A staged QEMU that took a VM's images for a warm cutover's final pass: its pid, and the socket of its exports (null: every image raw). */
  public record StagedWriter(long pid, Path socket) {}

  /**
   * {@link ManagedVm#openStagedForFinalPass}: the images opened in the staged VM's QEMU, where
   * the final pass then writes them. {@code freeImages} runs first, and only when a staged QEMU
   * waits (the copy's writer lets go of the images); empty when none waits: the final pass then
   * writes as the others did.
   */
  public java.util.Optional<StagedWriter> openStagedForFinalPass(String name, Runnable freeImages) {
    ManagedVm vm = get(name);
    return vm.exclusive("open the staged disks of", ACTION_WAIT, () -> {
      checkGuards(name, "start");
      QemuProcess staged = vm.stagedProcess();
      if (staged == null) return java.util.Optional.<StagedWriter>empty();
      freeImages.run();
      return java.util.Optional.of(new StagedWriter(staged.pid(), vm.openStagedForFinalPass(staged)));
    });
  }

  /**
   * The pool guard again, chain included: a stopped VM's image is just a file in a pool, and its
   * qcow2 header may have been rewritten to name a backing file outside the pools since define.
   */
  private void checkImages(ManagedVm vm) {
    var disks = vm.record().spec().disks();
    for (int i = 0; i < disks.size(); i++) {
      String field = "disks[" + i + "].path";
      Path real = pools.guard(field, disks.get(i).path());
      // backing layers too: QEMU opens them as its own user
      ImageChain.require(field, real, disks.get(i).format().driver(), pools, host.qemu().imgBinary())
          .forEach(host.user()::handOver);
    }
  }

  /** Installs the check every start goes through (e.g. no start while an offline disk copy runs). */
  public void guardStarts(StartGuard guard) {
    this.startGuard = java.util.Objects.requireNonNull(guard, "guard");
  }

  /** Runs {@code action} alone with the VM: no start, stop, redefine or other such action interleaves. */
  public <T> T withVm(String name, java.util.function.Function<VmHandle, T> action) {
    return withVm(name, "act on", ACTION_WAIT, action);
  }

  /**
   * As {@link #withVm(String, java.util.function.Function)}, waiting at most {@code wait} for the
   * action under way; {@code what} names this one in the refusal others get meanwhile.
   */
  public <T> T withVm(String name, String what, Duration wait, java.util.function.Function<VmHandle, T> action) {
    ManagedVm vm = get(name);
    return vm.exclusive(what, wait, () -> action.apply(new VmHandle(vm)));
  }

  /** The VM without its action lock, for reads that must not wait for a long stop. */
  public VmHandle peek(String name) {
    return new VmHandle(get(name));
  }

  /** {@link ManagedVm#powerDown}: the guest powers off within {@code graceful} or keeps running. */
  public AgentVmStatus powerDown(String name, Duration graceful) {
    ManagedVm vm = get(name);
    return vm.exclusive("power down", ACTION_WAIT, () -> {
      checkGuards(name, "power down");
      return vm.powerDown(graceful);
    });
  }

  public AgentVmStatus stop(String name, Duration graceful) {
    ManagedVm vm = get(name);
    return vm.exclusive("stop", ACTION_WAIT, () -> {
      checkGuards(name, "stop");
      return vm.stop(graceful);
    });
  }

  /**
   * Always goes through, within seconds: no action guard (a migration is aborted by the kill
   * listeners instead) and no action lock (see {@code ManagedVm.kill}).
   */
  public AgentVmStatus kill(String name) {
    ManagedVm vm = get(name);
    AgentVmStatus st = vm.kill();
    for (KillListener l : killListeners) {
      try {
        l.killed(name);
      } catch (RuntimeException e) {
        log.warn("vm {}: after the kill: {}", name, e.getMessage());
      }
    }
    return vms.containsKey(name) ? vm.status() : st;
  }

  /** Deletes a VM that has no QEMU; with {@code deleteDisks} also its images named {@code <vm>-*}. */
  public void delete(String name, boolean deleteDisks) {
    ManagedVm vm = get(name);
    vm.exclusive("delete", ACTION_WAIT, () -> {
      checkGuards(name, "delete");
      vm.refuseUnreachable("delete");
      // a QEMU still waiting for its staged disks never ran the guest: nothing of it to keep
      if (vm.stagedProcess() != null) vm.kill();
      AgentVmStatus st = vm.status();
      if (vm.running() || (st.state() != VmState.STOPPED && st.state() != VmState.CRASHED)) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is " + st.state().name().toLowerCase(java.util.Locale.ROOT)
            + "; stop it before deleting it");
      }
      if (deleteDisks) deleteDisks(vm);
      vm.markDeleted();
      vms.remove(name, vm);
      deleteTree(vm.dir());
      log.info("vm {}: deleted{}", name, deleteDisks ? " with its disks" : "");
      return null;
    });
  }

  /**
   * Drops a VM whose QEMU is gone from this host without asking the guards and without touching
   * its disks: a VM that migrated away, or a migration target rolled back. Idempotent.
   */
  public void forget(String name) {
    ManagedVm vm = Names.valid(name) ? vms.get(name) : null;
    if (vm == null) return;
    vm.exclusive("forget", ACTION_WAIT, () -> {
      if (vm.running()) throw new AgentException(Kind.CONFLICT, "vm " + name + " still has a qemu; it cannot be forgotten");
      vm.markDeleted();
      vms.remove(name, vm);
      deleteTree(vm.dir());
      log.info("vm {}: forgotten on this host", name);
      return null;
    });
  }

  /** Whether a VM of that name is defined here. */
  public boolean exists(String name) {
    return Names.valid(name) && vms.containsKey(name);
  }

  public ConsoleChunk console(String name, Long offset, Integer tail) {
    return Console.read(get(name).runDir().console(), hostName, offset, tail);
  }

  /** Whether a running VM has {@code image} open; compared by real path. */
  public boolean inUse(Path image) {
    Path real;
    try {
      real = image.toRealPath();
    } catch (IOException e) {
      return false;
    }
    return vms.values().stream().filter(ManagedVm::running).flatMap(vm -> vm.diskPaths().stream())
        .anyMatch(real::equals);
  }

  /** Drops every QMP connection; the QEMUs keep running for the next agent to adopt. */
  public void detachAll() {
    readoption.close();
    vms.values().forEach(ManagedVm::detach);
  }

  private ManagedVm get(String name) {
    ManagedVm vm = Names.valid(name) ? vms.get(name) : null;
    if (vm == null) throw new AgentException(Kind.NOT_FOUND, "vm " + name + " does not exist on host " + hostName);
    return vm;
  }

  /** Only images Ferry created for this VM ({@code <vm>-<disk id>.<format>}) that lie inside a pool. */
  private void deleteDisks(ManagedVm vm) {
    for (Path disk : vm.diskPaths()) {
      if (!disk.getFileName().toString().startsWith(vm.name() + "-")) {
        log.info("vm {}: keeping disk {} (not created by ferry for this vm)", vm.name(), disk);
        continue;
      }
      try {
        Path real = pools.guard("disk", disk.toString());
        Files.deleteIfExists(real);
        log.info("vm {}: deleted disk {}", vm.name(), real);
      } catch (AgentException e) {
        log.info("vm {}: keeping disk {}: {}", vm.name(), disk, e.getMessage());
      } catch (IOException e) {
        throw new AgentException(Kind.INTERNAL, "cannot delete disk " + disk + " of vm " + vm.name() + ": " + e.getMessage(), e);
      }
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + dir + ": " + e.getMessage(), e);
    }
  }
}
