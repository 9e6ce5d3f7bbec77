package dev.ferry.controller.migration;

import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.controller.ControllerException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prediction a real live migration keeps in its record, made without delaying it. As the
 * migration starts ({@link #start}, before the target is prepared) a measurement the agent started
 * at most {@link #REUSE} ago (typically the dry run just before) is used at once; otherwise a new
 * one starts on the source and is never waited for: once QEMU has measured (about a second later,
 * while the target QEMU starts or while pre-copy already runs) {@link #poll} computes the
 * prediction. Page sampling leaves the dirty log to the migration, so the two may overlap; the
 * rate then still describes the guest as the migration started. A migration that ends before its
 * measurement does keeps no prediction (run {@code --dry-run} first to have one). Best effort: an
 * agent that cannot measure (an older one, a refusal) leaves the record without a prediction and
 * the migration as it is.
 *
 * <p>Between two hosts that no uncapped live migration has measured yet ({@link Predictor#link}
 * says {@code default}), the prediction waits for this migration's first pass to show the link
 * ({@link FirstPassRate}, about half a second of it) instead of using the constant, and says so
 * ({@code first-seconds}); a migration that completes before that keeps the constant's prediction.
 */
final class RunPrediction {

  private static final Logger LOG = LoggerFactory.getLogger(RunPrediction.class);
  /** asked at most this often, and given up after {@link #TRIES} answers without a measurement */
  private static final Duration EVERY = Duration.ofSeconds(1);
  private static final int TRIES = 10;
  /** a measurement this recent describes the guest as it is now */
  static final Duration REUSE = Duration.ofSeconds(60);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final LiveOptions options;
  private Instant startedAt;
  private Instant lastAsked;
  private int tries;
  /** measured, waiting for the first pass to show the link */
  private DirtyRate waiting;
  private String waitingWhen;
  private final FirstPassRate firstPass = new FirstPassRate();

  RunPrediction(MigrationContext ctx, MigrationRecord record, LiveOptions options) {
    this.ctx = ctx;
    this.record = record;
    this.options = options;
  }

  /** Starts the source's measurement; returns at once. */
  void start() {
    if (record.prediction != null || startedAt != null) return;
    try {
      Predictor predictor = new Predictor(ctx);
      DirtyRate last = predictor.last(record.source, record.vm);
      if (last.measured() && last.ageMs() != null && last.ageMs() <= REUSE.toMillis()) {
        predict(predictor, last, "a measurement of " + last.ageMs() / 1000 + " s ago");
        return;
      }
      predictor.startMeasuring(record.source, record.vm);
      startedAt = ctx.clock().instant();
    } catch (ControllerException e) {
      LOG.info("migration {}: no prediction, host '{}' cannot measure the dirty rate: {}", record.id, record.source,
          e.getMessage());
    }
  }

  /**
   * Feeds the source's latest sample of this migration: where the link was never measured, the
   * first pass shows it; then as {@link #poll()}.
   */
  void poll(MigrationStats s) {
    if (record.prediction != null) return;
    // fed from the start: the measurement may come after the first pass
    var rate = s != null && record.id.equals(s.migrationId()) ? firstPass.observe(s, ctx.clock().instant())
        : java.util.OptionalDouble.empty();
    poll();
    if (record.prediction == null && waiting != null && rate.isPresent()) {
      Predictor.Link link = new Predictor.Link(rate.getAsDouble(), MigrationPrediction.FIRST_SECONDS, "no uncapped"
          + " live migration between '" + record.source + "' and '" + record.target + "' succeeded yet: the RAM this"
          + " migration's first pass got through per second, over its first " + FirstPassRate.SPAN.toMillis()
          + " ms or the whole pass");
      predict(new Predictor(ctx), waiting, waitingWhen, link);
    }
  }

  /** Computes the prediction once the source has measured; cheap and quiet otherwise. */
  void poll() {
    if (record.prediction != null || startedAt == null || tries >= TRIES) return;
    Instant now = ctx.clock().instant();
    if (Duration.between(startedAt, now).toSeconds() < Predictor.CALC_TIME_S) return;
    if (lastAsked != null && Duration.between(lastAsked, now).compareTo(EVERY) < 0) return;
    lastAsked = now;
    tries++;
    try {
      Predictor predictor = new Predictor(ctx);
      Optional<DirtyRate> rate = predictor.measured(record.source, record.vm);
      if (rate.isPresent()) predict(predictor, rate.get(), "measured as it started");
    } catch (RuntimeException e) {
      LOG.info("migration {}: no prediction yet: {}", record.id, e.getMessage());
    }
  }

  private void predict(Predictor predictor, DirtyRate rate, String when) {
    Predictor.Link link = predictor.link(record.source, record.target);
    if (link.source().equals(MigrationPrediction.DEFAULT)) {
      waiting = rate;
      waitingWhen = when;
      startedAt = null;
      return;
    }
    predict(predictor, rate, when, link);
  }

  /** The prediction with the link the first pass did not show: the migration ended first. */
  void lastChance() {
    if (record.prediction == null && waiting != null) {
      Predictor predictor = new Predictor(ctx);
      predict(predictor, waiting, waitingWhen, predictor.link(record.source, record.target));
    }
  }

  private void predict(Predictor predictor, DirtyRate rate, String when, Predictor.Link link) {
    long guest = ctx.store().vms().find(record.vm).map(v -> v.memoryGivenBytes()).orElse(0L);
    if (guest <= 0) return;
    record.prediction = predictor.predict(guest, rate, options, link, predictor.pauseShare(record.source, record.target));
    LOG.info("migration {}: predicted total {} ms, downtime {} ms ({}, dirty rate {} MiB/s {}, link {} MiB/s {})",
        record.id, record.prediction.predictedTotalMs(), record.prediction.predictedDowntimeMs(),
        record.prediction.outcome(), record.prediction.dirtyRateMibS(), when, record.prediction.linkMibS(),
        record.prediction.linkSource());
  }
}
