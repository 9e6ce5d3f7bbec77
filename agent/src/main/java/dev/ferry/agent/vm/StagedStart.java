package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.StagedDisks;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.machine.Cont;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A VM's QEMU started before its disks may be opened ({@link ManagedVm#stage}, a warm cutover's
 * target): finding it again (also after an agent restart, from QEMU's own block graph), attaching
 * the disks with the guest still paused, and its first boot. Its state is guarded by the VM's
 * monitor, as {@link QemuWatch}'s is.
 */
final class StagedStart {

  private static final Logger log = LoggerFactory.getLogger(StagedStart.class);

  private final ManagedVm vm;
  /** the staged process whose disks this agent attached: its guest never ran until its start (a restart forgets it) */
  private QemuProcess attached;
  /** the process this agent started staged, until it resumes it (a restart forgets it) */
  private QemuProcess launched;

  StagedStart(ManagedVm vm) {
    this.vm = vm;
  }

  /** The QEMU of the VM while it waits for its disks or its first boot, else null. */
  QemuProcess process() {
    QemuProcess p;
    synchronized (vm) {
      if (vm.process == null || vm.state != VmState.PAUSED) return null;
      p = vm.process;
      // known without asking QEMU (a round trip of a cutover's downtime); an agent restarted since asks it
      if (p == attached || p == launched) return p;
    }
    try {
      return StagedDisks.waiting(new Qmp(p.qmp()), vm.record().spec()) ? p : null;
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "vm " + vm.name() + ": cannot read the block nodes of qemu pid " + p.pid()
          + ": " + Qmp.describe(e), e);
    }
  }

  /** Called by the VM right after it started its QEMU staged. */
  void launched() {
    synchronized (vm) {
      if (vm.state == VmState.PAUSED) launched = vm.process;
    }
  }

  /**
   * The images are free now (the last pass is done): under their devices, the guest still paused,
   * never run. A QEMU that dies meanwhile is no failure here: the start after it is a plain one.
   */
  AgentVmStatus attach(QemuProcess p) {
    boolean already;
    boolean untouched;
    synchronized (vm) {
      already = p == attached;
      // only the first try may skip looking: one that failed part-way left nodes behind
      untouched = !already && p == launched;
      if (untouched) launched = null;
    }
    if (already) return vm.status();
    long t0 = System.nanoTime();
    try {
      StagedDisks.attach(new Qmp(p.qmp()), vm.record().spec(), untouched);
    } catch (QmpException e) {
      if (p.awaitExit(Duration.ofMillis(200))) return vm.status();
      // QEMU refused an image (it cannot open it): asking again changes nothing
      throw new AgentException(e instanceof dev.ferry.qmp.QmpErrorException ? Kind.CONFLICT : Kind.UNAVAILABLE, "vm "
          + vm.name() + ": attaching the staged disks to qemu pid " + p.pid() + " failed: " + Qmp.describe(e), e);
    }
    synchronized (vm) {
      if (vm.process == p) attached = p;
    }
    log.info("vm {}: staged disks attached to qemu pid {} in {} ms, guest still paused", vm.name(), p.pid(),
        (System.nanoTime() - t0) / 1_000_000);
    return vm.status();
  }

  /** The images under their devices (unless {@link #attach} put them there), then the guest's first boot. */
  AgentVmStatus resume(QemuProcess p) {
    long t0 = System.nanoTime();
    var q = new Qmp(p.qmp());
    boolean known;
    boolean untouched;
    synchronized (vm) {
      known = p == attached;
      untouched = !known && p == launched;
      if (untouched) launched = null;
    }
    try {
      if (!known) StagedDisks.attach(q, vm.record().spec(), untouched);
      q.call(new Cont());
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, "vm " + vm.name() + ": attaching the staged disks to qemu pid " + p.pid()
          + " failed: " + Qmp.describe(e) + "; start it again", e);
    }
    synchronized (vm) {
      // cont answered: the vCPUs run; the RESUME event may come after this answer
      if (vm.process == p && vm.state == VmState.PAUSED) vm.transition(VmState.RUNNING);
      attached = null;
      launched = null;
    }
    log.info("vm {}: staged disks attached, qemu pid {} resumed in {} ms", vm.name(), p.pid(),
        (System.nanoTime() - t0) / 1_000_000);
    // the guest runs: the placeholders no longer mark anything, and the answer need not wait for their removal
    Thread.ofVirtual().name("staged-release-" + vm.name()).start(() -> {
      try {
        StagedDisks.release(q, vm.record().spec());
      } catch (RuntimeException e) {
        log.warn("vm {}: placeholders of the staged disks not removed from qemu pid {}: {}", vm.name(), p.pid(),
            e.getMessage());
      }
    });
    return vm.status();
  }
}
