package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingUnlock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source's part of {@code ferry vm unlock}. The controller ends a stuck migration where it
 * stopped without asking any agent; but a source record left {@code completed} (QEMU finished the
 * copy, the complete never came, e.g. the target was lost) keeps the VM busy here and refuses
 * every later migration of it as "already migrating", for good. This forgets such a record, and
 * only the one of the migration the controller ended, once no runner drives it: a migration still
 * under way here is refused (cancel it or let it end), an ended one needs nothing. The source
 * QEMU is left exactly as it is (after a completed copy: paused, postmigrate); what happens to it
 * is the operator's decision, who checked both hosts before unlocking.
 */
// the per-VM migration lock is held by try-with-resources and never referenced inside
@SuppressWarnings("try")
final class OutgoingForget {

  private static final Logger log = LoggerFactory.getLogger(OutgoingForget.class);

  private final MigrationStore store;
  private final Busy busy;
  private final OutgoingMigrations outgoing;
  private final OutgoingStats stats;

  OutgoingForget(MigrationStore store, Busy busy, OutgoingMigrations outgoing, OutgoingStats stats) {
    this.store = store;
    this.busy = busy;
    this.outgoing = outgoing;
    this.stats = stats;
  }

  /** Idempotent: a record already forgotten answers NOT_FOUND, an ended one its stats. */
  MigrationStats unlock(String name, OutgoingUnlock req) {
    if (req == null || req.migrationId() == null || req.migrationId().isBlank()) {
      throw AgentException.badInput("migration_id", req == null ? null : req.migrationId(),
          "the id of the migration the controller unlocked");
    }
    if (req.reason() == null || req.reason().isBlank()) {
      throw AgentException.badInput("reason", req.reason(), "the operator's reason for the unlock, in words");
    }
    try (MigrationLocks.Held held = outgoing.lock(name, "unlock the migration")) {
      OutgoingRecord r = outgoing.record(name);
      if (!r.migrationId().equals(req.migrationId())) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " has a record of migration " + r.migrationId() + " on this"
            + " host, not of " + req.migrationId() + "; it is kept");
      }
      switch (r.phase()) {
        // nothing holds the vm: the record only answers later reads
        case HANDED_OVER, FAILED, CANCELLED, RECLAIMED -> {
          return stats.of(name);
        }
        case PREPARING, MIRRORING, MIGRATING, SWITCHOVER -> throw new AgentException(Kind.CONFLICT, "migration "
            + r.migrationId() + " of vm " + name + " is " + r.phase().wire() + " on this host and its runner still drives"
            + " it; cancel it (before post-copy) or let it end, then unlock again");
        // QEMU finished the copy and the complete that would hand the vm over never came
        case COMPLETED -> { }
      }
      MigrationStats last = stats.of(name);
      Outgoing o = outgoing.watched(name);
      if (o != null) o.closeEvents();
      outgoing.unwatch(name);
      store.delete(name);
      busy.set(name, false, null);
      log.warn("vm {} migration {}: {} record forgotten on an operator's unlock ({}); the source qemu is left as it is",
          name, r.migrationId(), r.phase().wire(), req.reason().strip());
      return last;
    }
  }
}
