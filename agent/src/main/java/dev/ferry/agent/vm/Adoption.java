package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.api.VmState;
import dev.ferry.qmp.QmpException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-attaching to a QEMU an earlier agent started, without stopping or resuming the guest. A
 * live QEMU whose QMP does not answer is never taken for crashed (a start would launch a second
 * QEMU on the same disks): its VM is UNKNOWN, refuses start, stop and delete, and {@link Readoption}
 * tries again; only a kill ends that QEMU, by its pid.
 */
final class Adoption {

  private static final Logger log = LoggerFactory.getLogger(Adoption.class);

  /** A live QEMU this agent cannot talk to: its pid (so kill still works) and why adoption failed. */
  record Unreachable(long pid, String why) {}

  private final ManagedVm vm;

  Adoption(ManagedVm vm) {
    this.vm = vm;
  }

  /**
   * True when settled (adopted, or no QEMU runs); false when a live QEMU did not answer on QMP:
   * the VM is UNKNOWN then, and the caller tries again later.
   */
  boolean adopt(Duration timeout) {
    synchronized (vm) {
      if (vm.deleted || vm.detached || vm.process != null) return true;
    }
    Optional<ProcessHandle> live = QemuProcess.livePid(vm.runDir());
    if (live.isEmpty()) {
      synchronized (vm) {
        vm.unreachable = null;
      }
      // no live QEMU: if it was meant to run, it died while no agent was watching
      vm.transition(switch (vm.record().state()) {
        case RUNNING, PAUSED, STARTING, CRASHED, UNKNOWN -> VmState.CRASHED;
        case STOPPED, STOPPING -> VmState.STOPPED;
      });
      return true;
    }
    QemuProcess adopted;
    try {
      adopted = QemuProcess.adopt(vm.name(), vm.runDir(), timeout).orElse(null);
    } catch (QmpException | AgentException e) {
      boolean first;
      synchronized (vm) {
        first = vm.unreachable == null;
        vm.unreachable = new Unreachable(live.get().pid(), e.getMessage());
      }
      if (first) {
        log.error("vm {}: qemu pid {} runs but does not answer on {} ({}); state unknown until it does", vm.name(),
            live.get().pid(), vm.runDir().qmpSocket(), e.getMessage());
      }
      vm.transition(VmState.UNKNOWN);
      return false;
    }
    if (adopted == null) return adopt(timeout); // it ended between the two looks
    synchronized (vm) {
      if (vm.deleted || vm.detached || vm.process != null) {
        adopted.close();
        return true;
      }
      vm.unreachable = null;
    }
    vm.watch.attach(adopted);
    return true;
  }

  /** SIGKILL to a QEMU that never answered; the VM is STOPPED once it is gone. */
  void kill(Unreachable lost) {
    ProcessHandle.of(lost.pid()).ifPresent(ProcessHandle::destroyForcibly);
    boolean gone = ProcessHandle.of(lost.pid()).map(h -> h.onExit().completeOnTimeout(h, 5, TimeUnit.SECONDS).join())
        .map(h -> !h.isAlive()).orElse(true);
    if (!gone) {
      throw new AgentException(Kind.INTERNAL, "qemu pid " + lost.pid() + " of vm " + vm.name() + " survived SIGKILL for 5 s");
    }
    synchronized (vm) {
      vm.unreachable = null;
    }
    vm.transition(VmState.STOPPED);
    log.info("vm {}: unreachable qemu pid {} killed by request", vm.name(), lost.pid());
  }
}
