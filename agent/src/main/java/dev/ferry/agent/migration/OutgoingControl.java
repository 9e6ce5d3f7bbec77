package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.qmp.Migration;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.migration.Migrate;
import dev.ferry.qmp.migration.MigrateCancel;
import dev.ferry.qmp.migration.MigratePause;
import dev.ferry.qmp.migration.MigrateStartPostcopy;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the controller asks of an outgoing migration the runner drives: cancel it, switch it to
 * post-copy, retune it, pause and resume a post-copy whose link broke, and complete the hand-over
 * once the guest runs on the target. Each request takes the VM's lock (so it never races a start),
 * accepts only the phases in which QEMU takes the command, observes QEMU before it acts so a
 * repeated request changes nothing, and answers the stats.
 */
// the per-VM migration lock is held by try-with-resources and never referenced inside
@SuppressWarnings("try")
final class OutgoingControl {

  private static final Logger log = LoggerFactory.getLogger(OutgoingControl.class);
  /** fault point: the target runs the guest, the source has not quit yet */
  static final String BEFORE_COMPLETE = "outgoing.before-complete";
  /** fault point: post-copy was asked of QEMU; the guest is moving to the target */
  static final String AFTER_POSTCOPY = "outgoing.after-postcopy";

  /** What QEMU takes while a migration runs: the controller's escalation within the user's limits. */
  static final Set<String> TUNABLE = Set.of("max-bandwidth", "max-postcopy-bandwidth", "downtime-limit",
      "cpu-throttle-initial", "cpu-throttle-increment", "cpu-throttle-tailslow");

  private final Vms vms;
  private final Pools pools;
  private final MigrationStore store;
  private final OutgoingMigrations outgoing;
  private final OutgoingReconciler reconciler;
  private final OutgoingStats stats;

  OutgoingControl(Vms vms, Pools pools, MigrationStore store, OutgoingMigrations outgoing, OutgoingReconciler reconciler,
      OutgoingStats stats) {
    this.vms = vms;
    this.pools = pools;
    this.store = store;
    this.outgoing = outgoing;
    this.reconciler = reconciler;
    this.stats = stats;
  }

  MigrationStats cancel(String name) {
    try (MigrationLocks.Held held = outgoing.lock(name, "cancel the migration")) {
      OutgoingRecord r = outgoing.record(name);
      switch (r.phase()) {
        case CANCELLED, FAILED, RECLAIMED -> {
          return stats.of(name);
        }
        case COMPLETED, HANDED_OVER -> throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm "
            + name + " is " + r.phase().wire() + "; the guest is on the target now, roll forward");
        case PREPARING, MIRRORING, MIGRATING, SWITCHOVER -> { }
      }
      if (r.postcopy()) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " switched to"
            + " post-copy at " + r.postcopyAt() + ": the guest's newest state is on the target, this host's copy cannot"
            + " be resumed; it can only finish");
      }
      Outgoing o = outgoing.watchedOrAttached(name, r);
      if (!outgoing.advance(o, OutgoingPhase.CANCELLED, x -> x.withTimes(null, null, null, Instant.now()))) {
        return stats.of(name);
      }
      log.info("vm {} migration {}: cancelling", name, r.migrationId());
      if (o.qmp != null && o.process.isAlive()) {
        try {
          o.qmp.call(new MigrateCancel());
          for (int i = 0; i < 40; i++) {
            MigrationInfo qm = o.qmp.migration().query();
            o.lastQm = qm;
            if (!Migration.underWay(Migration.status(qm))) break;
            o.tick("MIGRATION");
          }
        } catch (RuntimeException e) {
          log.warn("vm {} migration {}: migrate_cancel: {}", name, r.migrationId(), e.getMessage());
        }
        MigrationInfo qm = o.lastQm;
        if (qm != null) {
          MigrationStats s = OutgoingStats.stats(r.migrationId(), OutgoingPhase.CANCELLED, qm, o.lastMirrors, null,
              null, null, Duration.between(r.startedAt(), Instant.now()).toMillis(), "cancelled on request");
          outgoing.persist(o, o.record.withOutcome(s, "cancelled on request"));
        }
      }
      reconciler.cleanUp(o);
      o.closeEvents();
    }
    return stats.of(name);
  }

  /**
   * The controller saw the target's QEMU die before its guest ever ran: the paused, completed
   * source is the only whole copy, so it runs again here. Only for the named migration, only after
   * a pre-copy completion (after post-copy the target's guest had run); a repeat changes nothing.
   */
  MigrationStats reclaim(String name, OutgoingReclaim request) {
    if (request == null || request.reason() == null || request.reason().isBlank()) {
      throw AgentException.badInput("reason", request == null ? "null" : String.valueOf(request.reason()),
          "why the source takes its guest back, for the log");
    }
    try (MigrationLocks.Held held = outgoing.lock(name, "reclaim the guest")) {
      OutgoingRecord r = outgoing.record(name);
      if (!r.migrationId().equals(request.migrationId())) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " has a record of migration " + r.migrationId() + ", not "
            + request.migrationId());
      }
      if (r.phase() == OutgoingPhase.RECLAIMED) return stats.of(name);
      if (r.phase() != OutgoingPhase.COMPLETED || r.postcopy()) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + (r.postcopy() ? " after post-copy" : "") + "; only a pre-copy completion whose target"
            + " never ran can be reclaimed");
      }
      Outgoing o = outgoing.watchedOrAttached(name, r);
      if (o.qmp == null || !o.process.isAlive()) {
        throw new AgentException(Kind.CONFLICT, "the source qemu of vm " + name + " is gone too; nothing to reclaim");
      }
      String why = "reclaimed: " + request.reason();
      outgoing.advance(o, OutgoingPhase.RECLAIMED, x -> x.withOutcome(null, why)
          .withTimes(null, null, null, Instant.now()));
      log.warn("vm {} migration {}: {}", name, r.migrationId(), why);
      reconciler.cleanUp(o);
      o.closeEvents();
    }
    return stats.of(name);
  }

  MigrationStats postcopy(String name) {
    try (MigrationLocks.Held held = outgoing.lock(name, "switch the migration to post-copy")) {
      OutgoingRecord r = outgoing.record(name);
      if (!Boolean.TRUE.equals(r.capabilities().get("postcopy-ram"))) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name
            + " was started without the postcopy-ram capability");
      }
      if (r.phase() != OutgoingPhase.MIGRATING) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + "; post-copy can start only while migrating");
      }
      Outgoing o = outgoing.requireWatched(name, r);
      // persisted before the command: once it is sent the source never resumes nor cancels its guest
      if (!o.record.postcopy()) outgoing.persist(o, o.record.withPostcopy(Instant.now()));
      if (!o.qmp().migration().status().postcopy()) o.qmp().call(new MigrateStartPostcopy());
      log.info("vm {} migration {}: switched to post-copy", name, r.migrationId());
    }
    FaultPoints.reach(AFTER_POSTCOPY, name);
    return stats.of(name);
  }

  /** {@code migrate-set-parameters} on a running pre-copy; only the {@link #TUNABLE} ones. */
  MigrationStats tune(String name, Map<String, Object> parameters) {
    if (parameters == null || parameters.isEmpty()) {
      throw AgentException.badInput("parameters", "{}", "one or more of " + new TreeSet<>(TUNABLE));
    }
    for (String key : parameters.keySet()) {
      if (!TUNABLE.contains(key)) {
        throw AgentException.badInput("parameters." + key, String.valueOf(parameters.get(key)),
            "a parameter qemu takes during a migration: " + new TreeSet<>(TUNABLE));
      }
    }
    try (MigrationLocks.Held held = outgoing.lock(name, "tune the migration")) {
      OutgoingRecord r = outgoing.record(name);
      if (r.phase() != OutgoingPhase.MIGRATING) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + "; parameters change only while migrating");
      }
      Outgoing o = outgoing.requireWatched(name, r);
      o.qmp().migration().setParameters(parameters);
      log.info("vm {} migration {}: parameters changed mid-flight: {}", name, r.migrationId(), parameters);
    }
    return stats.of(name);
  }

  /**
   * Post-copy over a link that went quiet: {@code migrate-pause} shuts the stream down so QEMU
   * enters {@code postcopy-paused}, from where {@link #resume} reconnects. A stalled TCP stream
   * would otherwise only fail after the kernel's retransmission timeout (many minutes), with the
   * guest on the target blocked on every missing page meanwhile. Idempotent: a paused (or
   * recovering) migration is left as it is.
   */
  MigrationStats pause(String name) {
    try (MigrationLocks.Held held = outgoing.lock(name, "pause the post-copy")) {
      Outgoing o = postcopyUnderWay(name, "pause");
      QemuMigrationStatus st = o.qmp().migration().status();
      if (st == QemuMigrationStatus.POSTCOPY_ACTIVE) {
        o.qmp().call(new MigratePause());
        log.warn("vm {} migration {}: post-copy stream paused (link to the target considered broken)", name,
            o.record.migrationId());
      } else if (st != QemuMigrationStatus.POSTCOPY_PAUSED && st != QemuMigrationStatus.POSTCOPY_RECOVER) {
        throw new AgentException(Kind.CONFLICT, "migration " + o.record.migrationId() + " of vm " + name + " is " + st
            + " in qemu; only postcopy-active can be paused");
      }
    }
    return stats.of(name);
  }

  /**
   * Reconnects a paused post-copy to the URI the target's {@code migrate-recover} listens on
   * ({@code migrate} with {@code resume: true}); QEMU re-syncs the page bitmaps and carries on.
   * Idempotent: a migration that is recovering or active again is left as it is.
   */
  MigrationStats resume(String name, String uri) {
    Requests.migrationUri(uri, "as the target's recover answered");
    try (MigrationLocks.Held held = outgoing.lock(name, "resume the post-copy")) {
      Outgoing o = postcopyUnderWay(name, "resume");
      QemuMigrationStatus st = o.qmp().migration().status();
      switch (st) {
        case POSTCOPY_PAUSED -> {
          o.qmp().call(Migrate.resume(uri));
          log.info("vm {} migration {}: post-copy resumed towards {}", name, o.record.migrationId(), uri);
        }
        case POSTCOPY_RECOVER, POSTCOPY_ACTIVE, COMPLETED -> { }
        default -> throw new AgentException(Kind.CONFLICT, "migration " + o.record.migrationId() + " of vm " + name
            + " is " + st + " in qemu; only a paused post-copy resumes");
      }
    }
    return stats.of(name);
  }

  private Outgoing postcopyUnderWay(String name, String what) {
    OutgoingRecord r = outgoing.record(name);
    // SWITCHOVER too: with copied disks pause-before-switchover also stops at the switch to post-copy
    if (r.phase() != OutgoingPhase.MIGRATING && r.phase() != OutgoingPhase.SWITCHOVER) {
      throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is " + r.phase().wire()
          + " on this host; " + what + " applies to a post-copy under way");
    }
    return outgoing.requireWatched(name, r);
  }

  /**
   * After the controller saw the guest run on the target: quit the source QEMU and forget the VM
   * here. Shared disks are never deleted; the source images of copied disks only when asked.
   */
  MigrationStats complete(String name, boolean deleteSourceImages) {
    try (MigrationLocks.Held held = outgoing.lock(name, "complete the migration")) {
      Optional<OutgoingRecord> rec = store.outgoing(name);
      if (rec.isEmpty()) {
        return store.handedOver(name).map(OutgoingStats::finalStats).orElseThrow(() -> OutgoingMigrations.noMigration(name));
      }
      OutgoingRecord r = rec.get();
      // HANDED_OVER still on record: an agent died half-way through a complete; a repeat finishes it
      if (r.phase() != OutgoingPhase.COMPLETED && r.phase() != OutgoingPhase.HANDED_OVER) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + "; complete only after it completed");
      }
      Outgoing o = outgoing.watchedOrAttached(name, r);
      List<Path> copied = new ArrayList<>();
      for (OutgoingRecord.Mirror m : r.mirrors()) copied.add(Path.of(vms.peek(name).disk(m.disk()).path()));
      FaultPoints.reach(BEFORE_COMPLETE, name);
      // vm is now owned by the target host
      if (r.phase() == OutgoingPhase.COMPLETED) outgoing.advance(o, OutgoingPhase.HANDED_OVER, x -> x);
      o.closeEvents();
      vms.withVm(name, VmHandle::quit);
      store.archive(name, o.record);
      outgoing.unwatch(name);
      vms.forget(name);
      if (deleteSourceImages) {
        for (Path p : copied) {
          try {
            Files.deleteIfExists(pools.guard("disk", p.toString()));
            log.info("vm {} migration {}: deleted source image {}", name, r.migrationId(), p);
          } catch (Exception e) {
            log.warn("vm {} migration {}: keeping source image {}: {}", name, r.migrationId(), p, e.getMessage());
          }
        }
      }
      log.info("vm {} migration {}: handed over; source qemu quit, vm forgotten here", name, r.migrationId());
      return OutgoingStats.finalStats(o.record);
    }
  }
}
