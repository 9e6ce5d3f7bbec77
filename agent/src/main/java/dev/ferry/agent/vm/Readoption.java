package dev.ferry.agent.vm;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries again, with backoff, to adopt the VMs whose live QEMU did not answer on QMP when the
 * agent started (a QEMU stopped by a debugger, stalled on I/O, or whose socket was unreachable).
 * Such a VM stays UNKNOWN meanwhile; it is never given up as crashed, since that would let a start
 * launch a second QEMU on the same disks. One timer thread serves every such VM.
 */
final class Readoption implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Readoption.class);
  static final Duration FIRST = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(30);
  /** per attempt: a QEMU that answers at all greets within milliseconds */
  static final Duration ATTEMPT = Duration.ofSeconds(5);

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "vm-readoption");
    t.setDaemon(true);
    return t;
  });

  void retry(ManagedVm vm) {
    schedule(vm, FIRST, 1);
  }

  private void schedule(ManagedVm vm, Duration delay, int attempt) {
    if (timer.isShutdown()) return;
    timer.schedule(() -> attempt(vm, delay, attempt), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void attempt(ManagedVm vm, Duration delay, int attempt) {
    if (!vm.unreachable()) return; // adopted, killed, deleted, or the agent let go
    try {
      if (vm.adopt(ATTEMPT)) {
        log.info("vm {}: adopted at attempt {}", vm.name(), attempt + 1);
        return;
      }
    } catch (RuntimeException e) {
      log.warn("vm {}: adoption attempt {} failed: {}", vm.name(), attempt + 1, e.getMessage());
    }
    Duration next = delay.multipliedBy(2).compareTo(MAX) > 0 ? MAX : delay.multipliedBy(2);
    if (attempt % 10 == 0) log.warn("vm {}: qemu still unreachable after {} attempts; next in {} ms", vm.name(), attempt + 1,
        next.toMillis());
    schedule(vm, next, attempt + 1);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
