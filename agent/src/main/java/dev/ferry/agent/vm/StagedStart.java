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
  /** the process this agent started staged, while nothing else was tried on it (a restart forgets it) */
  private QemuProcess launched;
  /** the process whose images this agent opened for the final pass, while nothing else was tried on it */
  private QemuProcess opened;

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
      if (p == attached || p == launched || p == opened) return p;
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
   * {@link StagedDisks#openForFinalPass} on {@code socket}; answers whether anything is exported
   * there. A failure part-way is undone (the images' nodes closed), so that the copy's writer
   * process can open them again, and is thrown.
   */
  boolean openForFinalPass(QemuProcess p, java.nio.file.Path socket) {
    synchronized (vm) {
      if (p == attached) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm.name() + ": its staged disks are attached already");
      }
      launched = null;
      opened = null;
    }
    var q = new Qmp(p.qmp());
    long t0 = System.nanoTime();
    boolean served;
    try {
      served = StagedDisks.openForFinalPass(q, vm.record().spec(), socket);
    } catch (RuntimeException e) {
      try {
        StagedDisks.closeFinalPass(q, vm.record().spec());
      } catch (RuntimeException again) {
        e.addSuppressed(again);
      }
      if (e instanceof QmpException qe) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm.name() + ": opening its images in the staged qemu pid "
            + p.pid() + " failed: " + Qmp.describe(qe), e);
      }
      throw e;
    }
    synchronized (vm) {
      if (vm.process == p) opened = p;
    }
    log.info("vm {}: images opened in staged qemu pid {} for the final pass in {} ms{}", vm.name(), p.pid(),
        (System.nanoTime() - t0) / 1_000_000, served ? ", exported on " + socket : "");
    return served;
  }

  /** What this agent knows of {@code p}'s nodes, forgotten once used: a step that fails part-way leaves others. */
  private StagedDisks.Known take(QemuProcess p) {
    synchronized (vm) {
      StagedDisks.Known known = p == opened ? StagedDisks.Known.OPENED
          : p == launched ? StagedDisks.Known.LAYOUT : StagedDisks.Known.NOTHING;
      opened = null;
      launched = null;
      return known;
    }
  }

  /**
   * The images are free now (the last pass is done): under their devices, the guest still paused,
   * never run. A QEMU that dies meanwhile is no failure here: the start after it is a plain one.
   */
  AgentVmStatus attach(QemuProcess p) {
    boolean already;
    synchronized (vm) {
      already = p == attached;
    }
    if (already) return vm.status();
    StagedDisks.Known known = take(p);
    long t0 = System.nanoTime();
    try {
      StagedDisks.attach(new Qmp(p.qmp()), vm.record().spec(), known);
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
    boolean done;
    synchronized (vm) {
      done = p == attached;
    }
    try {
      if (!done) StagedDisks.attach(q, vm.record().spec(), take(p));
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
      opened = null;
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
