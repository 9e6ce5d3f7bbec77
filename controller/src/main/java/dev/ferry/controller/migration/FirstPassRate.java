package dev.ferry.controller.migration;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.QemuMigrationStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalDouble;

/**
 * The link as a migration's own first pass shows it, for two hosts that no uncapped live
 * migration has measured yet: the RAM the first pass got through per second, from the
 * controller's samples of the source, over at least {@link #SPAN} (or until the pass ended).
 * RAM, not bytes sent: zero pages cost the first pass little, and the model's first pass counts
 * the guest's whole RAM, so this is the figure that makes its first pass as long as the real one
 * (a constant 1 Gbit/s made an idle 256 MiB guest's 0.8–1.3 s first pass a predicted 2.1 s).
 */
final class FirstPassRate {

  /** long enough for QEMU's 100 ms bandwidth windows and the controller's 50 ms samples to even out */
  static final Duration SPAN = Duration.ofMillis(500);

  private Instant firstAt;
  private long firstDone;
  /** once known it stays: after the first pass the span would only grow */
  private OptionalDouble rate = OptionalDouble.empty();

  /** Takes a sample of the source; the rate in bytes/s once known. */
  OptionalDouble observe(MigrationStats s, Instant now) {
    if (rate.isPresent()) return rate;
    if (s.status() != QemuMigrationStatus.ACTIVE || s.passes() < 1 || s.ramTotalBytes() <= 0) return OptionalDouble.empty();
    // once the second pass began, the whole RAM went through the first
    long done = s.passes() == 1 ? s.ramTotalBytes() - s.ramRemainingBytes() : s.ramTotalBytes();
    if (firstAt == null) {
      if (s.passes() == 1) {
        firstAt = now;
        firstDone = done;
      }
      return OptionalDouble.empty();
    }
    long ms = Duration.between(firstAt, now).toMillis();
    if (s.passes() == 1 && ms < SPAN.toMillis() || ms <= 0 || done <= firstDone) return OptionalDouble.empty();
    rate = OptionalDouble.of((done - firstDone) * 1000.0 / ms);
    return rate;
  }
}
