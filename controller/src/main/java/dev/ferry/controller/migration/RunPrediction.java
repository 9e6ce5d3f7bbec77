package dev.ferry.controller.migration;

import dev.ferry.api.agent.DirtyRate;
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
    long guest = ctx.store().vms().find(record.vm).map(v -> v.memoryGivenBytes()).orElse(0L);
    if (guest <= 0) return;
    record.prediction = predictor.predict(record.source, record.target, guest, rate, options);
    LOG.info("migration {}: predicted total {} ms, downtime {} ms ({}, dirty rate {} MiB/s {}, link {} MiB/s {})",
        record.id, record.prediction.predictedTotalMs(), record.prediction.predictedDowntimeMs(),
        record.prediction.outcome(), record.prediction.dirtyRateMibS(), when, record.prediction.linkMibS(),
        record.prediction.linkSource());
  }
}
