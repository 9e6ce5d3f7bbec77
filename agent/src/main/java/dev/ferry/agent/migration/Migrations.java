package dev.ferry.agent.migration;

import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.agent.AgentException;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.api.agent.OutgoingUnlock;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live migration on this host, as source ({@code outgoing}) or target ({@code incoming}) of a VM;
 * the controller orchestrates the two agents. State lives in {@code DIR/vms/NAME/migration.json};
 * while a migration holds a VM its ordinary actions answer 409.
 *
 * <p>The controller's sequence: target {@code PUT incoming} → source {@code POST outgoing} (with
 * the target's URI and NBD exports) → poll source {@code GET outgoing} until {@code completed} →
 * target {@code POST incoming/finish} → source {@code POST outgoing/complete}. Before the target's
 * finish, roll back with source {@code POST outgoing/cancel} (if not yet completed) and target
 * {@code DELETE incoming}. A post-copy whose link broke: source {@code POST outgoing/pause}, target
 * {@code POST incoming/recover} (a new URI), source {@code POST outgoing/resume} with it.
 */
public final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  /** how long a kill waits for the rollback of an arriving VM before it answers */
  private static final java.time.Duration KILL_ROLLBACK_WAIT = java.time.Duration.ofSeconds(5);

  private final Vms vms;
  private final OutgoingRunner runner;
  private final OutgoingControl control;
  private final OutgoingStats stats;
  private final MigrationTarget target;
  private final PostcopyRecovery recovery;
  private final MigrationStore store;
  private final OutgoingMigrations outgoing;
  private final OutgoingReconciler reconciler;
  private final OutgoingForget forget;
  private final DirtyRates dirtyRates = new DirtyRates();

  private Migrations(Vms vms, OutgoingRunner runner, OutgoingControl control, OutgoingStats stats, MigrationTarget target,
      PostcopyRecovery recovery, MigrationStore store, OutgoingMigrations outgoing, OutgoingReconciler reconciler,
      OutgoingForget forget) {
    this.forget = forget;
    this.store = store;
    this.outgoing = outgoing;
    this.reconciler = reconciler;
    this.vms = vms;
    this.runner = runner;
    this.control = control;
    this.stats = stats;
    this.target = target;
    this.recovery = recovery;
  }

  /**
   * Installs the action guard on {@code vms} and re-attaches to migrations a previous agent left
   * under way.
   *
   * @param address the address of this host that other hosts reach (migration stream and NBD)
   */
  public static Migrations start(Path dataDir, Vms vms, Pools pools, QemuHost host, String address) {
    return start(dataDir, vms, pools, host, address, PortRange.DEFAULT, StreamTls.OFF);
  }

  /**
   * @param ports the range QEMU's listeners for other hosts take ports from
   * @param tls   TLS on migration and NBD streams ({@link StreamTls#OFF}: none)
   */
  public static Migrations start(Path dataDir, Vms vms, Pools pools, QemuHost host, String address, PortRange ports,
      StreamTls tls) {
    var store = new MigrationStore(dataDir);
    var busy = new Busy();
    var outgoing = new OutgoingMigrations(vms, store, busy);
    var stats = new OutgoingStats(store, outgoing);
    var reconciler = new OutgoingReconciler(outgoing);
    var target = new MigrationTarget(vms, pools, host, store, busy, address, ports, tls);
    var m = new Migrations(vms, new OutgoingRunner(vms, store, busy, outgoing, reconciler, stats, tls),
        new OutgoingControl(vms, pools, store, outgoing, reconciler, stats), stats, target,
        new PostcopyRecovery(vms, store, target), store, outgoing, reconciler,
        new OutgoingForget(store, busy, outgoing, stats));
    vms.guardActions(busy::check);
    vms.onKill(m::killed);
    for (AgentVmStatus vm : vms.list()) {
      try {
        m.runner.recover(vm.name());
        m.target.recover(vm.name());
      } catch (RuntimeException e) {
        log.error("vm {}: cannot recover its migration: {}", vm.name(), e.getMessage());
      }
    }
    return m;
  }

  /**
   * A user killed the VM, which a kill may do at any time: its migration cannot go on. Outgoing
   * before completion: ended as failed (the source's QEMU is gone, so nothing is resumed).
   * Arriving before the point of no return: rolled back like {@code DELETE incoming}, so no image
   * of it is left. After those points the controller finishes what remains (hand-over, finish).
   */
  void killed(String vm) {
    OutgoingMigrations.Outgoing o = outgoing.watched(vm);
    if (o != null && o.record.phase().ordinal() < OutgoingPhase.COMPLETED.ordinal()) {
      reconciler.fail(o, "the vm was killed on this host by request" + (o.record.postcopy()
          ? " during post-copy: the guest's memory was split between both hosts and is lost" : ""));
      o.closeEvents();
    }
    store.incoming(vm).filter(r -> r.phase() == IncomingPhase.PREPARING || r.phase() == IncomingPhase.LISTENING)
        .ifPresent(r -> {
          // the rollback waits for a prepare under way; the kill's answer does not
          Thread t = Thread.ofVirtual().name("rollback " + vm).start(() -> {
            try {
              target.rollBack(vm);
            } catch (RuntimeException e) {
              log.warn("vm {} migration {}: rollback after the kill: {}", vm, r.migrationId(), e.getMessage());
            }
          });
          try {
            t.join(KILL_ROLLBACK_WAIT);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  public IncomingReady incoming(String vm, IncomingRequest request) {
    return target.prepare(vm, request);
  }

  public IncomingStatus incomingStatus(String vm) {
    return target.status(vm);
  }

  public IncomingStatus finishIncoming(String vm) {
    return target.finish(vm);
  }

  public IncomingReady recoverIncoming(String vm) {
    return recovery.recover(vm);
  }

  public MigrationStats tuneOutgoing(String vm, java.util.Map<String, Object> parameters) {
    return control.tune(vm, parameters);
  }

  public MigrationStats pauseOutgoing(String vm) {
    return control.pause(vm);
  }

  public MigrationStats resumeOutgoing(String vm, String migrationUri) {
    return control.resume(vm, migrationUri);
  }

  public void rollBackIncoming(String vm) {
    target.rollBack(vm);
  }

  public MigrationStats outgoing(String vm, OutgoingRequest request) {
    return runner.start(vm, request);
  }

  public MigrationStats outgoingStats(String vm) {
    return stats.of(vm);
  }

  /** The longest a stats request waits for a phase change: well inside any caller's request timeout. */
  static final int MAX_STATS_WAIT_MS = 5_000;

  /** The stats once the phase is no longer {@code unlessPhase}, or after {@code waitMs} (a long poll). */
  public MigrationStats outgoingStats(String vm, String unlessPhase, int waitMs) {
    if (waitMs < 0 || waitMs > MAX_STATS_WAIT_MS) {
      throw AgentException.badInput("wait_ms", Integer.toString(waitMs), "0 to " + MAX_STATS_WAIT_MS + " ms");
    }
    OutgoingPhase phase = java.util.Arrays.stream(OutgoingPhase.values())
        .filter(p -> p.wire().equals(unlessPhase)).findFirst()
        .orElseThrow(() -> AgentException.badInput("unless", String.valueOf(unlessPhase), "a phase of an outgoing"
            + " migration: " + java.util.Arrays.stream(OutgoingPhase.values()).map(OutgoingPhase::wire).toList()));
    outgoing.awaitLeaving(vm, phase, java.time.Duration.ofMillis(waitMs));
    return stats.of(vm);
  }

  public MigrationStats cancelOutgoing(String vm) {
    return control.cancel(vm);
  }

  public MigrationStats postcopy(String vm) {
    return control.postcopy(vm);
  }

  public MigrationStats completeOutgoing(String vm, boolean deleteSourceImages) {
    return control.complete(vm, deleteSourceImages);
  }

  public MigrationStats reclaimOutgoing(String vm, OutgoingReclaim request) {
    return control.reclaim(vm, request);
  }

  public MigrationStats unlockOutgoing(String vm, OutgoingUnlock request) {
    return forget.unlock(vm, request);
  }

  public MemoryDigest memoryDigest(String vm) {
    return MemoryDigests.digest(vms.peek(vm));
  }

  public DirtyRate measureDirtyRate(String vm, long calcTimeS) {
    return dirtyRates.measure(vms.peek(vm), calcTimeS);
  }

  public DirtyRate dirtyRate(String vm) {
    return dirtyRates.last(vms.peek(vm));
  }
}
