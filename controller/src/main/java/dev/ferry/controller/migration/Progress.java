package dev.ferry.controller.migration;

import java.time.Duration;
import java.time.Instant;

/**
 * Copy rate and ETA from successive (bytes done, bytes expected) samples. The rate is smoothed
 * (EWMA) so the ETA does not jump with every poll, and the done count never runs backwards in
 * what we report even if a job's own figures wobble.
 */
final class Progress {

  private static final double SMOOTHING = 0.3;

  private long done;
  private long total;
  private Instant last;
  private Double rate;

  void sample(long doneBytes, long totalBytes, Instant now) {
    long d = Math.max(doneBytes, done);
    if (last != null) {
      double secs = Duration.between(last, now).toNanos() / 1e9;
      if (secs >= 0.05) {
        double r = (d - done) / secs;
        rate = rate == null ? r : SMOOTHING * r + (1 - SMOOTHING) * rate;
        last = now;
        done = d;
      }
    } else {
      last = now;
      done = d;
    }
    total = Math.max(totalBytes, done);
  }

  long done() {
    return done;
  }

  long total() {
    return total;
  }

  long remaining() {
    return Math.max(0, total - done);
  }

  Double rate() {
    return rate;
  }

  /** Milliseconds to finish at the current rate; null while the rate is unknown or zero. */
  Long etaMs() {
    if (rate == null || rate <= 1) return remaining() == 0 ? 0L : null;
    return (long) (remaining() / rate * 1000);
  }
}
