package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.MirrorProgress;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The outgoing migrations this agent watches, and what the runner, the controller's requests and
 * the stats share about them. Three kinds of thread touch one migration at once (its runner, the
 * QMP event listener, HTTP requests), so the phase moves only by compare-and-set on the
 * {@link Outgoing} and is persisted (with the VM's busy mark) before anyone acts on it; the
 * controller's requests on a VM are serialised by one lock per VM name.
 */
final class OutgoingMigrations {

  private static final Logger log = LoggerFactory.getLogger(OutgoingMigrations.class);

  private final Vms vms;
  private final MigrationStore store;
  private final Busy busy;
  private final Map<String, Outgoing> live = new ConcurrentHashMap<>();
  private final MigrationLocks locks = new MigrationLocks("outgoing");

  OutgoingMigrations(Vms vms, MigrationStore store, Busy busy) {
    this.vms = vms;
    this.store = store;
    this.busy = busy;
  }

  /** One outgoing migration at run time: its record, its QEMU, the timestamps events bring. */
  static final class Outgoing {
    private static final Duration TICK = Duration.ofMillis(250);

    final String vm;
    final QemuProcess process;
    final Qmp qmp;
    final AtomicBoolean switchoverStarted = new AtomicBoolean();
    volatile OutgoingRecord record;
    volatile QmpSubscription events;
    volatile Instant stoppedAt;
    volatile Instant preSwitchoverAt;
    volatile Instant completedAt;
    volatile MigrationInfo lastQm;
    volatile List<MirrorProgress> lastMirrors = List.of();

    Outgoing(String vm, OutgoingRecord record, QemuProcess process) {
      this.vm = vm;
      this.record = record;
      this.process = process;
      this.qmp = process == null ? null : new Qmp(process.qmp());
      this.stoppedAt = record.stoppedAt();
      this.preSwitchoverAt = record.preSwitchoverAt();
    }

    Qmp qmp() {
      if (qmp == null || !process.isAlive()) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " has no qemu on this host any more");
      }
      return qmp;
    }

    void closeEvents() {
      QmpSubscription s = events;
      if (s != null) s.close();
    }

    /** Waits for the next event called {@code name} or {@link #TICK}, whichever comes first. */
    void tick(String name) {
      try {
        qmp().awaitEvent(e -> e.name().equals(name), TICK);
      } catch (QmpTimeoutException e) {
        // the tick
      } catch (QmpException e) {
        throw e;
      }
    }

    void withMdc(Runnable r) {
      try (var a = MDC.putCloseable("vm", vm); var b = MDC.putCloseable("migration", record.migrationId())) {
        r.run();
      }
    }
  }

  /** The per-VM lock of this side's requests, waited for at most {@link Vms#ACTION_WAIT}, as a VM action. */
  MigrationLocks.Held lock(String vm, String what) {
    return locks.take(vm, what, Vms.ACTION_WAIT);
  }

  void watch(Outgoing o) {
    live.put(o.vm, o);
  }

  void unwatch(String vm) {
    Outgoing o = live.remove(vm);
    if (o != null) {
      synchronized (o) {
        o.notifyAll();
      }
    }
  }

  /**
   * Returns once the watched migration of {@code vm} is in another phase than {@code phase}, is
   * no longer watched, or {@code atMost} passed; at once when none is watched. Every phase change
   * goes through {@link #persist}, which wakes the waiters.
   */
  void awaitLeaving(String vm, OutgoingPhase phase, Duration atMost) {
    Outgoing o = live.get(vm);
    if (o == null) return;
    long deadline = System.nanoTime() + atMost.toNanos();
    synchronized (o) {
      while (o.record.phase() == phase && live.get(vm) == o) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return;
        try {
          o.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** The persisted record of the outgoing migration of {@code vm}; NOT_FOUND without one. */
  OutgoingRecord record(String vm) {
    return store.outgoing(vm).orElseThrow(() -> noMigration(vm));
  }

  /** The watched migration of {@code vm}, or null. */
  Outgoing watched(String vm) {
    return live.get(vm);
  }

  /** As {@link #watched}, for a request that acts through the runner's QEMU connection. */
  Outgoing requireWatched(String vm, OutgoingRecord r) {
    Outgoing o = live.get(vm);
    if (o == null) throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " is not watched by this agent");
    return o;
  }

  /** The watched migration of {@code vm}, or a new one on the record and the QEMU this host has now. */
  Outgoing watchedOrAttached(String vm, OutgoingRecord r) {
    return live.computeIfAbsent(vm, n -> new Outgoing(n, r, vms.peek(n).process().orElse(null)));
  }

  /** Compare-and-set of the phase, persisted before the caller acts on it. */
  boolean advance(Outgoing o, OutgoingPhase next, UnaryOperator<OutgoingRecord> change) {
    synchronized (o) {
      OutgoingPhase from = o.record.phase();
      if (!from.canMoveTo(next)) return false;
      OutgoingRecord r = change.apply(o.record.withPhase(next));
      persist(o, r);
      log.info("vm {} migration {}: {} -> {} ({} ms since start)", o.vm, r.migrationId(), from.wire(), next.wire(),
          Duration.between(r.startedAt(), Instant.now()).toMillis());
      return true;
    }
  }

  void persist(Outgoing o, OutgoingRecord r) {
    synchronized (o) {
      o.record = r;
      store.write(o.vm, r);
      o.notifyAll();
      busy.set(o.vm, r.phase().blocksActions(), "it is migrating to another host (migration " + r.migrationId() + ", "
          + r.phase().wire() + ")");
    }
  }

  static AgentException noMigration(String name) {
    return new AgentException(Kind.NOT_FOUND, "vm " + name + " has no outgoing migration on this host");
  }
}
