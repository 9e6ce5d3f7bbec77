package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.api.VmState;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.machine.QueryStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what an attached QEMU does into its VM's state: RUNNING/PAUSED from {@code query-status}
 * when attached and from the {@code STOP}/{@code RESUME} events afterwards; an exit Ferry did not
 * ask for is STOPPED after the guest's own power-off ({@link #guestPowerOff}), CRASHED otherwise. Events and the exit
 * arrive on threads of their own, so every change is made under the VM's monitor, and only for
 * the process still attached (a restarted QEMU's predecessor may report late).
 */
final class QemuWatch {

  private static final Logger log = LoggerFactory.getLogger(QemuWatch.class);

  private final ManagedVm vm;

  QemuWatch(ManagedVm vm) {
    this.vm = vm;
  }

  /** Makes {@code p} the VM's process and watches it. */
  void attach(QemuProcess p) {
    synchronized (vm) {
      vm.process = p;
      vm.stopRequested = false;
      vm.guestShutdown = false;
      vm.events = p.qmp().subscribe(e -> onEvent(p, e));
    }
    ProcessHandle.of(p.pid()).ifPresentOrElse(
        h -> h.onExit().thenRun(() -> onExit(p)),
        () -> onExit(p));
    try {
      QueryStatus.StatusInfo st = p.qmp().call(new QueryStatus());
      synchronized (vm) {
        if (vm.process == p) vm.transition(st.running() ? VmState.RUNNING : VmState.PAUSED);
      }
    } catch (QmpException e) {
      // the exit watcher decides what an unanswering QEMU means; the state stays as it was
      log.warn("vm {}: query-status failed after attaching to qemu pid {}: {}", vm.name(), p.pid(), e.getMessage());
    }
  }

  private void onEvent(QemuProcess p, QmpEvent event) {
    synchronized (vm) {
      if (vm.process != p) return;
      switch (event.name()) {
        case "STOP" -> {
          if (vm.state == VmState.RUNNING) vm.transition(VmState.PAUSED);
        }
        case "RESUME" -> {
          // a guest powered off in a kept QEMU (a warm source's cutover cancelled) runs again
          vm.guestShutdown = false;
          if (vm.state == VmState.PAUSED || vm.state == VmState.STARTING) vm.transition(VmState.RUNNING);
        }
        case "SHUTDOWN" -> {
          vm.guestShutdown = guestPowerOff(event);
          log.info("vm {}: qemu reports shutdown ({})", vm.name(), event.data());
        }
        default -> log.debug("vm {}: event {} {}", vm.name(), event.name(), event.data());
      }
    }
  }

  private void onExit(QemuProcess p) {
    synchronized (vm) {
      // not ours any more (restarted, or the agent let go), or the stop action finishes it
      if (vm.process != p || vm.stopRequested) return;
      vm.process = null;
      closeEvents();
      if (vm.guestShutdown) {
        log.info("vm {}: guest shut down, qemu pid {} exited", vm.name(), p.pid());
        vm.transition(VmState.STOPPED);
      } else {
        vm.lastExit = p.exitDescription();
        log.error("vm {}: {} unexpectedly; qemu.log: {}", vm.name(), vm.lastExit, tail(vm.runDir().qemuLog()));
        vm.transition(VmState.CRASHED);
      }
      // the process is gone: this only removes its socket and pid file, before a new start can
      // create them (start checks for a process under this monitor)
      p.stop(Duration.ZERO);
    }
  }

  /**
   * Whether a {@code SHUTDOWN} event is the guest's own power-off, the one that flushed its page
   * cache to its disks first. QEMU sends the event too when a signal ends it ({@code
   * host-signal}, exit status 0) and on a guest panic: neither is a clean stop.
   */
  static boolean guestPowerOff(QmpEvent shutdown) {
    return shutdown.data().path("guest").asBoolean(false)
        && "guest-shutdown".equals(shutdown.data().path("reason").asText(""));
  }

  /** Stops listening to the process's events; the caller holds the VM's monitor. */
  void closeEvents() {
    if (vm.events != null) {
      vm.events.close();
      vm.events = null;
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 10), lines.size())).strip();
    } catch (java.io.IOException e) {
      return "(no qemu log at " + log + ")";
    }
  }
}
