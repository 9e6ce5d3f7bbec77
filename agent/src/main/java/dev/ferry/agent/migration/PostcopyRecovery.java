package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.migration.MigratePause;
import dev.ferry.qmp.migration.MigrateRecover;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's part in recovering a post-copy whose stream broke. Past the switch to post-copy
 * neither host has the whole guest, so a failed migration cannot roll back: the stream must be
 * reconnected. This side pauses the incoming migration if QEMU has not noticed yet (a stalled TCP
 * stream looks alive to it), then {@code migrate-recover} listens on a port of this host ({@link ListenPorts});
 * the answer's URI goes to the source's {@code outgoing/resume}. It takes the same per-VM lock as
 * the rest of the {@link MigrationTarget}.
 */
// the per-VM migration lock is held by try-with-resources and never referenced inside
@SuppressWarnings("try")
final class PostcopyRecovery {

  private static final Logger log = LoggerFactory.getLogger(PostcopyRecovery.class);

  private final Vms vms;
  private final MigrationStore store;
  private final MigrationTarget target;

  PostcopyRecovery(Vms vms, MigrationStore store, MigrationTarget target) {
    this.vms = vms;
    this.store = store;
    this.target = target;
  }

  /** Idempotent: while QEMU already listens (or reconnects) the same URI is answered again. */
  IncomingReady recover(String name) {
    try (MigrationLocks.Held held = target.lock(name, "recover the incoming post-copy")) {
      IncomingRecord r = store.incoming(name).orElseThrow(() -> MigrationTarget.noMigration(name));
      if (r.phase() != IncomingPhase.LISTENING && r.phase() != IncomingPhase.RESUMING) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + " on this host; only a post-copy under way recovers");
      }
      QemuProcess p = vms.peek(name).process().orElseThrow(() -> new AgentException(Kind.CONFLICT,
          "target qemu of vm " + name + " is gone; a post-copy cannot recover without it"));
      var q = new Qmp(p.qmp());
      QemuMigrationStatus st = q.migration().status();
      if (st == QemuMigrationStatus.POSTCOPY_ACTIVE) {
        q.call(new MigratePause());
        st = awaitStatusOtherThan(q, QemuMigrationStatus.POSTCOPY_ACTIVE);
        log.warn("vm {} migration {}: incoming post-copy paused to recover it ({})", name, r.migrationId(), st);
      }
      if (st == QemuMigrationStatus.POSTCOPY_RECOVER && r.recoveryUri() != null) return recovery(r);
      if (st != QemuMigrationStatus.POSTCOPY_PAUSED) {
        throw new AgentException(Kind.CONFLICT, "incoming migration " + r.migrationId() + " of vm " + name + " is " + st
            + " in qemu; only a paused post-copy recovers");
      }
      // the port is persisted before QEMU listens on it: a recover whose answer was lost finds it
      if (r.recoveryPort() == null) {
        r = r.withRecoveryPort(target.ports().choose());
        store.write(name, r);
      }
      var persisted = new AtomicReference<>(r);
      try {
        target.ports().listen("the post-copy recovery of vm " + name, r.recoveryPort(),
            port -> store.write(name, persisted.updateAndGet(x -> x.withRecoveryPort(port))),
            port -> q.call(new MigrateRecover(persisted.get().withRecoveryPort(port).recoveryUri())));
      } catch (QmpErrorException e) {
        // QEMU listens already (an earlier recover whose answer was lost): the same URI again
        if (e.desc().contains("already")) return recovery(persisted.get());
        throw e;
      }
      IncomingRecord next = persisted.get();
      log.info("vm {} migration {}: post-copy recovery listens on {}", name, r.migrationId(), next.recoveryUri());
      return recovery(next);
    }
  }

  private static QemuMigrationStatus awaitStatusOtherThan(Qmp q, QemuMigrationStatus status) {
    for (int i = 0; i < 100; i++) {
      QemuMigrationStatus st = q.migration().status();
      if (st != status) return st;
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AgentException(Kind.INTERNAL, "interrupted waiting for qemu to leave " + status, e);
      }
    }
    return status;
  }

  private static IncomingReady recovery(IncomingRecord r) {
    return new IncomingReady(r.migrationId(), r.recoveryUri(), null, null, Map.of());
  }
}
