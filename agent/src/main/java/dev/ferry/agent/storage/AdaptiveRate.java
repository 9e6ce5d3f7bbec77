package dev.ferry.agent.storage;

/**
 * The control law of a live mirror's adaptive rate: from the guest's write latency over the last
 * interval, the mirror's next speed limit ({@code block-job-set-speed}). Pure arithmetic, so the
 * law is tested with scripted samples; {@link RateLoop} feeds it from QEMU.
 *
 * <p>The goal is the guest's mean write latency within {@link #TARGET} times its baseline (measured
 * just before the mirror started). The bench (docs/bench/storage.md) shows how steep the guest's
 * cost is: 1.9x at 100 MiB/s but 14-17x at 400 MiB/s or uncapped, so a law that probes from the
 * top, or jumps back up in big steps, spends much of the mirror far over the goal (the first law
 * did: start uncapped, halve per step, add a quarter of the ceiling when under the goal; 4.8x).
 * This one creeps up and falls fast: a mirror whose guest writes starts at {@link #START_FLOORS}
 * floors and grows by {@link #RAISE} per step while the guest is under {@link #RAISE_BELOW}x;
 * over {@link #CUT_ABOVE}x it is cut in proportion to the excess, aiming under the goal (at most
 * halved per step, so one noisy sample cannot collapse it); in between it holds. Growth and cuts
 * start from what the job really copied in the last step when that is below the limit, so a limit
 * far over what the disks can do neither delays a cut nor is raised further.
 *
 * <p>An interval with fewer than {@link #MIN_WRITES} guest writes says nothing about latency: the
 * guest is not writing, so there is nothing to protect and the speed goes to the ceiling, as it
 * starts when the guest did not write before the mirror.
 *
 * <p>Progress is guaranteed by the floor: the speed never goes below it, whatever the guest's
 * latency, so a disk of {@code L} bytes is copied within about {@code L / floor} seconds. The
 * remaining work cannot grow meanwhile: with a write-blocking mirror a guest write goes to both
 * images before it completes and clears its area from the job's dirty bitmap, so the job's
 * remaining bytes only shrink and the mirror converges at any speed above zero.
 *
 * @param baselineNs the guest's mean write latency before the mirror, nanoseconds; 0 when unknown
 *     (the guest did not write): then there is no goal to keep and the mirror runs at the ceiling
 * @param floor the lowest speed, bytes per second
 * @param ceiling the highest speed, bytes per second; at the ceiling QEMU's limit is lifted (0)
 */
record AdaptiveRate(long baselineNs, long floor, long ceiling) {

  /** the guest's write latency may be at most this many times its baseline */
  static final double TARGET = 2.0;
  /** over this many times the baseline the speed is cut, leaving room for noise under the goal */
  static final double CUT_ABOVE = 1.8;
  /** under this many times the baseline the speed grows; between this and CUT_ABOVE it holds */
  static final double RAISE_BELOW = 1.5;
  /** a cut aims at this share of the goal */
  static final double CUT_AIM = 0.8;
  /** the growth per step under RAISE_BELOW */
  static final double RAISE = 1.25;
  /** a job that copied at least this share of its limit was held by it */
  static final double BINDING = 0.8;
  /** a writing guest's mirror starts at this many floors */
  static final int START_FLOORS = 4;
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

  /** A guest that wrote before the mirror is approached from below; one that did not gets the ceiling. */
  long start() {
    return baselineNs == 0 ? ceiling : Math.min(ceiling, START_FLOORS * floor);
  }

  /**
   * The speed after one at {@code speed} saw {@code sample}, bytes per second.
   *
   * @param copiedPerS what the job copied over the interval, bytes per second; negative when unknown
   */
  long next(long speed, Sample sample, long copiedPerS) {
    if (baselineNs == 0 || sample.writes() < MIN_WRITES) return ceiling;
    // QEMU's limit works in 100 ms slices, so a binding limit measures a little under itself
    boolean binding = copiedPerS < 0 || copiedPerS >= BINDING * speed;
    long effective = binding ? speed : Math.max(floor, copiedPerS);
    double ratio = sample.meanNs() / baselineNs;
    if (ratio > CUT_ABOVE) {
      double cut = Math.max(0.5, CUT_AIM * TARGET / ratio);
      return Math.max(floor, Math.min(speed, (long) (effective * cut)));
    }
    if (ratio < RAISE_BELOW) {
      // a limit the job does not reach is not raised further: a later cut would first have to undo it
      return binding ? Math.min(ceiling, (long) (speed * RAISE)) : speed;
    }
    return Math.max(floor, Math.min(ceiling, speed));
  }

  /** The value for {@code block-job-set-speed}: 0 (no limit) at the ceiling. */
  long qemuSpeed(long speed) {
    return speed >= ceiling ? 0 : speed;
  }
}
