package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Migration;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.machine.Stop;
import dev.ferry.qmp.migration.MigrateCancel;
import dev.ferry.qmp.migration.MigrateContinue;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves an outgoing migration to what QEMU says happened, whether an event told or the runner's
 * {@code query-migrate} did (after an agent restart the event may be long gone). The QMP event
 * listener handles {@code pre-switchover} at once, on a thread of its own so the guest's pause
 * stays short: cancel the READY mirrors (a consistent copy, no pivot), wait for them to conclude,
 * dismiss them, {@code migrate-continue}. The observed pause is measured by QEMU's own event
 * timestamps: {@code STOP} of the source to {@code MIGRATION completed}. A migration that fails
 * before completion gives the guest back to the source.
 */
final class OutgoingReconciler {

  private static final Logger log = LoggerFactory.getLogger(OutgoingReconciler.class);
  private static final Duration JOB_END = Duration.ofSeconds(30);
  private static final Duration JOB_POLL = Duration.ofMillis(200);

  private final OutgoingMigrations outgoing;

  OutgoingReconciler(OutgoingMigrations outgoing) {
    this.outgoing = outgoing;
  }

  void onEvent(Outgoing o, QmpEvent e) {
    switch (e.name()) {
      case "STOP" -> {
        if (o.stoppedAt == null && o.record.phase().ordinal() >= OutgoingPhase.MIGRATING.ordinal()) o.stoppedAt = e.timestamp();
      }
      case "MIGRATION" -> {
        QemuMigrationStatus st = QemuMigrationStatus.of(e.data().path("status").asText());
        switch (st) {
          case PRE_SWITCHOVER -> {
            o.preSwitchoverAt = e.timestamp();
            if (o.switchoverStarted.compareAndSet(false, true)) {
              Thread.ofVirtual().name("switchover " + o.vm).start(() -> o.withMdc(() -> switchover(o)));
            }
          }
          case COMPLETED -> {
            o.completedAt = e.timestamp();
            Thread.ofVirtual().start(() -> o.withMdc(() -> reconcileNow(o)));
          }
          case FAILED, CANCELLED -> Thread.ofVirtual().start(() -> o.withMdc(() -> reconcileNow(o)));
          default -> log.debug("vm {} migration {}: qemu migration status {}", o.vm, o.record.migrationId(), st);
        }
      }
      default -> { }
    }
  }

  /**
   * QEMU paused before switchover: the guest is stopped and every mirror is in sync, so
   * cancelling them leaves a consistent copy on the target (no pivot); then let QEMU switch over.
   */
  private void switchover(Outgoing o) {
    long t0 = System.nanoTime();
    try {
      // already SWITCHOVER: a restarted agent found QEMU still waiting in pre-switchover
      if (o.record.phase() != OutgoingPhase.SWITCHOVER
          && !outgoing.advance(o, OutgoingPhase.SWITCHOVER, x -> x.withTimes(null, o.stoppedAt, o.preSwitchoverAt, null))) {
        return;
      }
      Qmp q = o.qmp();
      for (OutgoingRecord.Mirror m : o.record.mirrors()) q.jobs().cancelIfRunning(m.job(), false);
      o.lastMirrors = OutgoingStats.progress(o.record.mirrors(), q.jobs().byId());
      for (OutgoingRecord.Mirror m : o.record.mirrors()) {
        q.jobs().awaitConcluded(m.job(), JOB_END, JOB_POLL);
        Optional<BlockJobInfo> j = q.jobs().find(m.job());
        if (j.isPresent() && j.get().error().isPresent()) {
          throw new AgentException(Kind.UNAVAILABLE, "mirror of disk " + m.disk() + " failed at switchover: "
              + Jobs.error(j.get()));
        }
        q.jobs().dismissIfConcluded(m.job());
      }
      q.call(new MigrateContinue(QemuMigrationStatus.PRE_SWITCHOVER.qemu()));
      log.info("vm {} migration {}: switchover: {} mirror(s) cancelled in sync, continued after {} ms", o.vm,
          o.record.migrationId(), o.record.mirrors().size(), (System.nanoTime() - t0) / 1_000_000);
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: switchover failed: {}", o.vm, o.record.migrationId(), e.getMessage());
      abort(o, "switchover failed: " + Qmp.describe(e));
    }
  }

  private void reconcileNow(Outgoing o) {
    try {
      MigrationInfo qm = o.qmp().migration().query();
      o.lastQm = qm;
      reconcile(o, qm);
    } catch (RuntimeException e) {
      log.debug("vm {} migration {}: query-migrate: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
  }

  /** Moves the record to what QEMU says happened. */
  void reconcile(Outgoing o, MigrationInfo qm) {
    switch (Migration.status(qm)) {
      case COMPLETED -> completed(o, qm);
      case FAILED -> fail(o, "qemu reports the migration failed: " + qm.errorDesc().orElse("no reason given"));
      case CANCELLED -> {
        if (o.record.phase() != OutgoingPhase.CANCELLED) fail(o, "qemu reports the migration cancelled");
      }
      case PRE_SWITCHOVER -> {
        // the event was missed (e.g. an agent restart): the listener's work, done from here
        if (o.switchoverStarted.compareAndSet(false, true)) switchover(o);
      }
      default -> { }
    }
  }

  private void completed(Outgoing o, MigrationInfo qm) {
    if (o.record.phase() == OutgoingPhase.COMPLETED || o.record.phase().ended()) return;
    Instant done = o.completedAt != null ? o.completedAt : Instant.now();
    Long pause = o.stoppedAt == null ? null : Duration.between(o.stoppedAt, done).toMillis();
    Long switchover = o.preSwitchoverAt == null ? null : Duration.between(o.preSwitchoverAt, done).toMillis();
    Instant sent = o.record.migrateSentAt();
    Long wall = sent == null ? null : Duration.between(sent, Instant.now()).toMillis();
    MigrationStats s = OutgoingStats.stats(o.record.migrationId(), OutgoingPhase.COMPLETED, qm, o.lastMirrors,
        pause, switchover, wall, Duration.between(o.record.startedAt(), Instant.now()).toMillis(), null);
    if (!outgoing.advance(o, OutgoingPhase.COMPLETED,
        x -> x.withTimes(null, o.stoppedAt, o.preSwitchoverAt, done).withOutcome(s, null))) {
      return;
    }
    log.info("vm {} migration {}: completed: total {} ms, qemu downtime {} ms, observed pause {} ms, {} bytes of ram",
        o.vm, o.record.migrationId(), s.totalTimeMs(), s.downtimeMs(), pause, s.ramTransferredBytes());
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      try {
        o.qmp().nodes().deleteIfPresent(m.node());
      } catch (RuntimeException e) {
        log.info("vm {} migration {}: removing nbd node {}: {}", o.vm, o.record.migrationId(), m.node(), e.getMessage());
      }
    }
  }

  /**
   * Ends a migration that failed before completion and gives the guest back to the source, unless
   * post-copy had started: then the source's copy is stale and stays paused.
   */
  void fail(Outgoing o, String why) {
    MigrationInfo qm = o.lastQm;
    MigrationStats s = qm == null ? null : OutgoingStats.stats(o.record.migrationId(), OutgoingPhase.FAILED, qm,
        o.lastMirrors, null, null, null, Duration.between(o.record.startedAt(), Instant.now()).toMillis(), why);
    if (!outgoing.advance(o, OutgoingPhase.FAILED, x -> x.withTimes(null, null, null, Instant.now()).withOutcome(s, why))) {
      return;
    }
    log.warn("vm {} migration {}: failed: {}", o.vm, o.record.migrationId(), why);
    cleanUp(o);
  }

  /** A failure of the agent's own steps: stop QEMU's migration too, then as {@link #fail}. */
  void abort(Outgoing o, String why) {
    try {
      // after the switch to post-copy a cancel would throw away the target's newer state
      if (o.qmp != null && o.process.isAlive() && !postcopy(o)) o.qmp.call(new MigrateCancel());
    } catch (RuntimeException e) {
      log.info("vm {} migration {}: migrate_cancel: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
    fail(o, why);
  }

  /** Post-copy started: persisted before the switch, or seen in QEMU (a switch an older agent did not record). */
  static boolean postcopy(Outgoing o) {
    MigrationInfo qm = o.lastQm;
    return o.record.postcopy() || (qm != null && Migration.status(qm).postcopy());
  }

  /**
   * Stops a running guest before its disks' mirrors are cancelled: QEMU 7.2 corrupts its heap
   * when a {@code write-blocking} mirror is cancelled with guest writes in flight through it (see
   * the storage package's {@code CancelPause}, where it was measured). The guest was running when
   * the migration began, so the resume below (repeated by a restarted agent's clean-up) ends the
   * pause; after post-copy the guest is the target's and is never stopped or resumed here.
   */
  private void holdStillForCancel(Outgoing o, Qmp q) {
    if (o.record.mirrors().isEmpty() || !o.record.wasRunning() || postcopy(o)) return;
    try {
      var jobs = q.jobs().byId();
      boolean active = o.record.mirrors().stream()
          .anyMatch(m -> jobs.containsKey(m.job()) && !Jobs.concluded(jobs.get(m.job())));
      if (active && q.runState().running()) {
        q.call(new Stop());
        log.info("vm {} migration {}: guest held still while its disk mirrors are cancelled", o.vm, o.record.migrationId());
      }
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: holding the guest still for the mirror cancel: {}", o.vm, o.record.migrationId(),
          e.getMessage());
    }
  }

  /** Best-effort, each part on its own: mirrors cancelled and dismissed, NBD nodes removed, the guest resumed. */
  void cleanUp(Outgoing o) {
    if (o.qmp == null || !o.process.isAlive()) return;
    Qmp q = o.qmp;
    holdStillForCancel(o, q);
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      try {
        q.jobs().cancelIfRunning(m.job(), true);
        q.jobs().awaitConcluded(m.job(), JOB_END, JOB_POLL);
        q.jobs().dismissIfConcluded(m.job());
      } catch (RuntimeException e) {
        log.warn("vm {} migration {}: cancelling mirror {}: {}", o.vm, o.record.migrationId(), m.job(), e.getMessage());
      }
      try {
        q.nodes().deleteIfPresent(m.node());
      } catch (RuntimeException e) {
        log.warn("vm {} migration {}: removing nbd node {}: {}", o.vm, o.record.migrationId(), m.node(), e.getMessage());
      }
    }
    if (!o.record.wasRunning()) return;
    if (postcopy(o)) {
      // the target ran the guest from the switch on: resuming this older copy would run it twice
      log.warn("vm {} migration {}: post-copy had started; the guest stays paused on this host", o.vm,
          o.record.migrationId());
      return;
    }
    try {
      QueryStatus.StatusInfo rs = q.runState();
      for (int i = 0; i < 40 && rs.status().equals("finish-migrate"); i++) {
        o.tick("RESUME");
        rs = q.runState();
      }
      // postmigrate only when a cancel raced with completion; the target has not run the guest
      if (!rs.running() && (rs.status().equals("paused") || rs.status().equals("postmigrate"))) {
        q.call(new Cont());
        log.info("vm {} migration {}: guest resumed on the source", o.vm, o.record.migrationId());
      }
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: resuming the source: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
  }
}
