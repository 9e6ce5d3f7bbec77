package dev.ferry.agent.migration;

import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's watch over a QEMU that receives a migration: while it arrives (listening,
 * resuming) one loop per VM asks {@code query-migrate} and {@code query-status}, again at once on
 * every {@code MIGRATION}, {@code STOP} and {@code RESUME} event of that QEMU and at least every
 * {@link #TICK}, and keeps the answer. {@code GET incoming} reads it, so the controller's polls
 * never add QMP traffic. Outside that window (no loop runs) the status is asked when wanted.
 */
final class IncomingMonitor {

  private static final Logger log = LoggerFactory.getLogger(IncomingMonitor.class);
  private static final Duration TICK = Duration.ofMillis(250);
  private static final Set<String> WAKE = Set.of("MIGRATION", "STOP", "RESUME");

  /** What one QEMU (by pid) said last. */
  record Seen(long pid, MigrationInfo migration, QueryStatus.StatusInfo run) {}

  private final Map<String, Seen> last = new ConcurrentHashMap<>();
  private final Map<String, Thread> loops = new ConcurrentHashMap<>();

  /** Starts the loop for {@code vm} on {@code qemu}, unless one runs. */
  void watch(String vm, QemuProcess qemu) {
    Thread t = Thread.ofVirtual().name("migrate-in " + vm).unstarted(() -> loop(vm, qemu));
    // registered before it starts: the loop runs while it is the one registered
    if (loops.putIfAbsent(vm, t) == null) t.start();
  }

  /** Stops the loop for {@code vm}; later answers are asked of QEMU when wanted. */
  void unwatch(String vm) {
    Thread t = loops.remove(vm);
    if (t != null) t.interrupt();
    last.remove(vm);
  }

  /** The loop's last answer about {@code qemu}, or QEMU's answer now when no loop watches it. */
  Seen seen(String vm, QemuProcess qemu) {
    // only while a loop watches: one that was just unwatched may still store an older answer
    Seen s = loops.containsKey(vm) ? last.get(vm) : null;
    return s != null && s.pid() == qemu.pid() ? s : ask(qemu);
  }

  /** Asks QEMU now, after an action of this agent changed its state; the loop's answer too. */
  Seen refresh(String vm, QemuProcess qemu) {
    Seen s = ask(qemu);
    if (loops.containsKey(vm)) last.put(vm, s);
    return s;
  }

  private void loop(String vm, QemuProcess qemu) {
    var wake = new Semaphore(0);
    try (QmpSubscription events = qemu.qmp().subscribe(e -> {
      if (WAKE.contains(e.name())) wake.release();
    })) {
      while (loops.get(vm) == Thread.currentThread() && qemu.isAlive() && qemu.qmp().isOpen()) {
        // an event during the questions asks them again at once
        wake.drainPermits();
        try {
          last.put(vm, ask(qemu));
        } catch (RuntimeException e) {
          log.debug("vm {}: watching the incoming migration: {}", vm, e.getMessage());
        }
        wake.tryAcquire(TICK.toMillis(), TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      // unwatched
    } finally {
      loops.remove(vm, Thread.currentThread());
      last.computeIfPresent(vm, (k, s) -> s.pid() == qemu.pid() ? null : s);
    }
  }

  private static Seen ask(QemuProcess qemu) {
    var q = new Qmp(qemu.qmp());
    MigrationInfo migration = q.migration().query();
    return new Seen(qemu.pid(), migration, q.runState());
  }
}
