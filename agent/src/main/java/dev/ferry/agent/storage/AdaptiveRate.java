package dev.ferry.agent.storage;

/**
 * The control law of a live mirror's adaptive rate: from the guest's write latency over the last
 * interval, the mirror's next speed limit ({@code block-job-set-speed}). Pure arithmetic, so the
 * law is tested with scripted samples; {@link RateLoop} feeds it from QEMU.
 *
 * <p>The goal is the guest's mean write latency within {@link #TARGET} times its baseline (measured
 * just before the mirror started). The law is additive-increase / multiplicative-decrease, as TCP
 * shares a link: over the goal the speed is cut in proportion to the excess (at most halved per
 * step, so one noisy sample cannot collapse it); comfortably under the goal ({@link #RAISE_BELOW})
 * it grows by a quarter of the ceiling per step, so a guest that stopped suffering gets the full
 * speed back in a few steps; in between it holds. An interval with fewer than {@link #MIN_WRITES}
 * guest writes says nothing about latency: the guest is not writing, so there is nothing to
 * protect and the speed grows.
 *
 * <p>Progress is guaranteed by the floor: the speed never goes below it, whatever the guest's
 * latency, so a disk of {@code L} bytes is copied within about {@code L / floor} seconds. The
 * remaining work cannot grow meanwhile: with a write-blocking mirror a guest write goes to both
 * images before it completes and clears its area from the job's dirty bitmap, so the job's
 * remaining bytes only shrink and the mirror converges at any speed above zero. And an interval
 * without guest writes raises the speed, so a guest that goes quiet never leaves the mirror at a
 * low speed it set for a writer that is gone.
 *
 * @param baselineNs the guest's mean write latency before the mirror, nanoseconds; 0 when unknown
 *     (the guest did not write): then there is no goal to keep and the mirror runs at the ceiling
 * @param floor the lowest speed, bytes per second
 * @param ceiling the highest speed, bytes per second; at the ceiling QEMU's limit is lifted (0)
 */
record AdaptiveRate(long baselineNs, long floor, long ceiling) {

  /** the guest's write latency may be at most this many times its baseline */
  static final double TARGET = 2.0;
  /** under this many times the baseline the speed grows; between this and TARGET it holds */
  static final double RAISE_BELOW = 1.5;
  /** fewer writes in an interval than this measure nothing */
  static final long MIN_WRITES = 4;

  AdaptiveRate {
    if (baselineNs < 0) throw new IllegalArgumentException("baselineNs must be 0 (unknown) or more: " + baselineNs);
    if (floor <= 0) throw new IllegalArgumentException("floor must be positive: " + floor);
    if (ceiling < floor) throw new IllegalArgumentException("ceiling " + ceiling + " is below the floor " + floor);
  }

  /** What the guest did over one interval: writes completed and the time they took. */
  record Sample(long writes, long writeTimeNs) {

    /** The interval between two readings of QEMU's cumulative counters. */
    static Sample between(long writes0, long timeNs0, long writes1, long timeNs1) {
      // counters only grow; a smaller reading means another QEMU (restart): no evidence
      if (writes1 < writes0 || timeNs1 < timeNs0) return new Sample(0, 0);
      return new Sample(writes1 - writes0, timeNs1 - timeNs0);
    }

    double meanNs() {
      return writes == 0 ? 0 : (double) writeTimeNs / writes;
    }
  }

  /** The mirror starts at the ceiling: an idle guest must not wait for the law to ramp up. */
  long start() {
    return ceiling;
  }

  /** The speed after one at {@code speed} saw {@code sample}, bytes per second. */
  long next(long speed, Sample sample) {
    if (baselineNs == 0 || sample.writes() < MIN_WRITES) return raise(speed);
    double ratio = sample.meanNs() / baselineNs;
    if (ratio > TARGET) {
      // in proportion to the excess, aiming a tenth under the goal; at most halved per step
      double cut = Math.max(0.5, TARGET / ratio * 0.9);
      return Math.max(floor, (long) (speed * cut));
    }
    if (ratio < RAISE_BELOW) return raise(speed);
    return Math.max(floor, Math.min(ceiling, speed));
  }

  /** The value for {@code block-job-set-speed}: 0 (no limit) at the ceiling. */
  long qemuSpeed(long speed) {
    return speed >= ceiling ? 0 : speed;
  }

  private long raise(long speed) {
    return Math.min(ceiling, speed + Math.max(floor, ceiling / 4));
  }
}
