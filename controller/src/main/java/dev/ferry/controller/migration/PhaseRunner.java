package dev.ferry.controller.migration;

import dev.ferry.api.MigrationStatus;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one persisted migration through its phases: the step of the current phase acts (observing
 * before it acts, so running it twice is harmless) and names the next phase, which is recorded by
 * compare-and-set, forward only, before its own step runs. What a failure does is the phase's own
 * rule ({@link MigrationPhase#onFailure}): before the point of no return the runner goes to the
 * rollback phase; past it, and while a rollback cannot tell what the source did, the migration
 * stays {@code running}, shows why in the record's {@code stuck}, and the step is tried again with backoff
 * until it goes through (level-triggered: each try looks at the hosts afresh). A restarted
 * controller enters through {@link #recover}, whose one switch is the decision.
 *
 * @param <P> the migration kind's phase enum
 */
final class PhaseRunner<P extends Enum<P> & MigrationPhase> {

  private static final Logger LOG = LoggerFactory.getLogger(PhaseRunner.class);
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration MAX_RETRY = Duration.ofSeconds(30);

  /** What a migration kind supplies: the steps of its phases and the meaning of its ends. */
  interface Steps<P> {
    /** Does the work of {@code phase} and returns the phase that follows; throws when the step failed. */
    P act(P phase);

    /** Where a failure (or a restart) before the point of no return goes: the kind's rollback phase. */
    P rollBack();

    /** The status a final phase ends the migration with. */
    MigrationStatus end(P last);

    /** Called right before a final phase is recorded (final figures). */
    default void finishing(P last) {}
  }

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final Steps<P> steps;
  private P phase;
  private Duration backoff = FIRST_RETRY;

  PhaseRunner(MigrationContext ctx, MigrationRecord record, P phase, Steps<P> steps) {
    this.ctx = ctx;
    this.record = record;
    this.phase = phase;
    this.steps = steps;
  }

  P phase() {
    return phase;
  }

  /** A migration a previous controller left running: its phase's recovery rule decides, then it runs on. */
  void recover() {
    MigrationPhase.Recovery r = phase.recovery();
    LOG.info("migration {}: recovering {} migration of vm {} in phase {}: {}", record.id, record.kind, record.vm,
        phase.text(), r.why());
    switch (r.action()) {
      case NOTHING -> {
        return;
      }
      case ROLL_BACK -> move(steps.rollBack());
      case RESUME -> { }
    }
    run();
  }

  /** Runs until a final phase; returns early only when the thread is interrupted (the controller stops). */
  void run() {
    while (!phase.terminal()) {
      P next;
      try {
        next = steps.act(phase);
      } catch (RuntimeException e) {
        if (Thread.currentThread().isInterrupted()) throw e;
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        next = switch (phase.onFailure()) {
          case ROLL_BACK -> {
            LOG.error("migration {} of vm {}: step of phase {} failed, rolling back", record.id, record.vm, phase.text(), e);
            note(why);
            yield steps.rollBack();
          }
          case RETRY -> {
            stuck(why);
            yield null;
          }
          case NONE -> throw new IllegalStateException("final phase " + phase.text() + " has no step", e);
        };
        if (next == null) continue;
      }
      record.stuck = null;
      backoff = FIRST_RETRY;
      move(next);
    }
  }

  /** Appends to the record's reason. */
  void note(String text) {
    record.reason = record.reason == null ? text : record.reason + "; " + text;
  }

  /** Records {@code next} by compare-and-set from the current phase; refuses to go backwards. */
  void move(P next) {
    P from = phase;
    if (next == from) return;
    if (!from.canMoveTo(next)) {
      throw new IllegalStateException("migration " + record.id + " of vm '" + record.vm + "': refusing to go from phase "
          + from.text() + " to " + next.text() + " (forward only)");
    }
    if (next.terminal()) {
      steps.finishing(next);
      record.end(steps.end(next), ctx.clock().instant());
    }
    record.phase = next.text();
    ctx.advance(record, from.text(), next.text());
    phase = next;
    LOG.info("migration {}: vm {} {} -> {} ({} ms since start)", record.id, record.vm, from.text(), next.text(),
        record.startedAt == null ? 0 : Duration.between(record.startedAt, ctx.clock().instant()).toMillis());
    ctx.events().publish("migration.phase", record.id, ctx.view(record));
    if (next.terminal()) {
      LOG.info("migration {}: vm {} {} in {} ms{}", record.id, record.vm, record.status.name().toLowerCase(java.util.Locale.ROOT),
          ctx.view(record).totalMs(), record.reason == null ? "" : " (" + record.reason + ")");
      ctx.events().publish("migration.done", record.id, ctx.view(record));
    }
  }

  /** The step failed where only retrying is safe: say so in the record, wait, try again. */
  private void stuck(String why) {
    record.stuck = why + " (phase " + phase.text() + ", retrying in " + backoff.toSeconds() + " s"
        + (phase.pastPointOfNoReturn() ? "; past the point of no return, the migration rolls forward" : "") + ")";
    LOG.warn("migration {} of vm {}: stuck: {}", record.id, record.vm, record.stuck);
    ctx.progress(record, phase.text());
    ctx.events().publish("migration.progress", record.id, ctx.view(record));
    ctx.sleep(backoff);
    backoff = backoff.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : backoff.multipliedBy(2);
  }
}
