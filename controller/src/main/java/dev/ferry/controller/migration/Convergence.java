package dev.ferry.controller.migration;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.Sizes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Judges whether a pre-copy migration converges, from the source's successive
 * {@link MigrationStats}. Pre-copy converges when each pass leaves less to send (landscape: round i
 * sends M·ρ^i); it is stuck when the remaining bytes stop falling for {@link #STALL_PASSES} passes
 * or {@link #STALL_TIME} while the downtime QEMU expects is still above the limit. With
 * auto-converge QEMU throttles the guest a little more each pass, so it gets twice the patience.
 *
 * <p>Escalation, within what the user allowed, one rung each time pre-copy is stuck: the bandwidth
 * is uncapped from the start unless the user capped it (a cap the user did not ask for only slows
 * convergence); with {@code --auto-converge} the capability is on from the start (QEMU refuses
 * capability changes during a migration, and it only throttles while the guest outruns the
 * stream) at QEMU's default step, then the throttle steps get steeper ({@link #THROTTLE_STEPS},
 * set mid-flight); then post-copy when allowed; when nothing is left, the migration is cancelled
 * with the numbers ({@link #stuckReason}). Post-copy under {@code auto} need not wait for the stall
 * watch once pre-copy is hopeless ({@link #hopeless}): with the whole allowance as the limit, the
 * last pass shrank what is left so little that more than {@link #STALL_PASSES} further passes would
 * be needed (the live bench's noconv guest: 6 more passes and 3 s at 0.6 of its speed, waiting for
 * a verdict the first of them had already given).
 */
final class Convergence {

  static final int STALL_PASSES = 3;
  static final Duration STALL_TIME = Duration.ofSeconds(10);
  /** a pass that leaves more than this share of the one before is a plateau for the downtime limit */
  static final double PLATEAU = 0.8;
  /** remaining must fall by at least this share to count as progress */
  static final double MIN_IMPROVEMENT = 0.05;
  /** auto-converge's cpu-throttle-increment per rung: QEMU's default (10 %), then steeper */
  static final int[] THROTTLE_STEPS = {10, 25, 40};
  /** no byte of RAM or disk moved for this long: the stream is dead (a cut link), not slow */
  static final Duration STREAM_STALL = Duration.ofSeconds(15);
  /** post-copy only over a stream that moved within this long: never escalate a dead link */
  static final Duration MOVING_FOR_POSTCOPY = Duration.ofSeconds(3);

  private final LiveOptions options;
  private long bestRemaining = Long.MAX_VALUE;
  private long passAtBest;
  private Instant timeAtBest;
  private long passes;
  /** the pass whose first sample was judged */
  private long passJudged;
  private long remaining;
  private long dirtyRate;
  private double bandwidth;
  private long expectedDowntimeMs;
  private int throttleRung;
  private long movedBytes = -1;
  private Instant movedAt;
  /** the downtime-limit QEMU runs with now */
  private long downtimeLimitMs;
  /** remaining at the previously judged pass; -1 before */
  private long lastPassRemaining = -1;
  /** remaining at the pass judged before the last one; -1 before */
  private long previousPassRemaining = -1;
  /** the pass from which QEMU's limit is the whole allowance; MAX_VALUE before */
  private long allowanceFromPass;
  /** a raise decided but not yet sent */
  private Long raiseTo;

  Convergence(LiveOptions options) {
    this.options = options;
    this.downtimeLimitMs = options.startDowntimeMs();
    this.allowanceFromPass = downtimeLimitMs >= options.maxDowntimeMs() ? 0 : Long.MAX_VALUE;
  }

  void observe(MigrationStats s, long remainingBytes, Instant now) {
    passes = s.passes();
    remaining = remainingBytes;
    long moved = s.ramTransferredBytes() + AgentWatch.mirrored(s);
    if (moved != movedBytes || movedAt == null) {
      movedBytes = moved;
      movedAt = now;
    }
    dirtyRate = s.dirtyRateBytesPerS();
    if (s.mbps() > 0) bandwidth = s.mbps() * 1e6 / 8;
    expectedDowntimeMs = s.expectedDowntimeMs() != null && s.expectedDowntimeMs() > 0 ? s.expectedDowntimeMs()
        : bandwidth > 0 ? (long) (remaining / bandwidth * 1000) : Long.MAX_VALUE;
    // Judged once per pass, on its first sample: within a pass QEMU's remaining falls to about
    // B x downtime before every bitmap sync, so comparing samples inside passes finds no pass
    // better than the first's dip. And only from the first dirty set on (dirty-sync-count 2): in
    // QEMU's setup there are no RAM figures, a remaining of 0 that no pass could ever beat
    // (converging guests were cancelled 3 passes or 10 s after the start), and the first pass's
    // first sample is wherever the zero pages let it fall in 250 ms, no measure of the guest.
    if (passes < 2 || passes == passJudged) return;
    passJudged = passes;
    previousPassRemaining = lastPassRemaining;
    judgeDowntimeLimit();
    if (timeAtBest == null || remaining < bestRemaining * (1 - MIN_IMPROVEMENT)) {
      bestRemaining = remaining;
      passAtBest = passes;
      timeAtBest = now;
    }
  }

  /**
   * Raises QEMU's downtime-limit once a pass no longer shrinks what is left by {@link #PLATEAU}:
   * more passes would not bring the pause down, so the limit becomes what the measured remainder
   * needs at the measured bandwidth (QEMU's expected downtime) with a quarter to spare, within the
   * allowance; QEMU then switches over at once. Above the allowance it goes to the allowance, and
   * the stall watch decides as before.
   */
  private void judgeDowntimeLimit() {
    long before = lastPassRemaining;
    lastPassRemaining = remaining;
    if (passes < 3 || before < 0 || downtimeLimitMs >= options.maxDowntimeMs()) return;
    if (!isPlateau(before, remaining) || expectedDowntimeMs == Long.MAX_VALUE) return;
    long want = raisedLimitMs(downtimeLimitMs, expectedDowntimeMs, options.maxDowntimeMs());
    downtimeLimitMs = want;
    raiseTo = want;
    if (want >= options.maxDowntimeMs()) allowanceFromPass = passes;
  }

  /** A pass that leaves at least {@link #PLATEAU} of what the pass before it left: more passes will not lower the pause. */
  static boolean isPlateau(double beforeBytes, double nowBytes) {
    return nowBytes >= beforeBytes * PLATEAU;
  }

  /**
   * The downtime-limit a plateau raises QEMU's to: what the remainder needs at the measured
   * bandwidth with a quarter and 5 ms to spare, at least 1 ms above the current limit, never above
   * the allowance. {@link PredictionModel} takes the same step, so the prediction follows the policy.
   */
  static long raisedLimitMs(long currentMs, long expectedMs, long allowanceMs) {
    return Math.min(allowanceMs, Math.max(currentMs + 1, expectedMs * 5 / 4 + 5));
  }

  /**
   * Pre-copy cannot bring what is left within the allowance in {@link #STALL_PASSES} more passes:
   * {@code nowBytes} do not fit in {@code allowanceMs} at {@code bytesPerS}, and shrinking by the
   * share the last pass did ({@code nowBytes / beforeBytes}, remaining falls geometrically) needs
   * more passes than that to fit. {@link PredictionModel} takes the same decision.
   */
  static boolean hopeless(double beforeBytes, double nowBytes, double bytesPerS, long allowanceMs) {
    if (beforeBytes <= 0 || bytesPerS <= 0) return false;
    double fits = bytesPerS * allowanceMs / 1000.0;
    if (nowBytes <= fits) return false;
    double ratio = nowBytes / beforeBytes;
    if (ratio >= 1) return true;
    return Math.log(fits / nowBytes) / Math.log(ratio) > STALL_PASSES;
  }

  /**
   * {@link #hopeless} for the pass judged last, once a whole pass ran with the allowance as QEMU's
   * limit: QEMU switches over as soon as a pass's dirty set fits its limit, so the allowance gets
   * its pass before pre-copy is given up on.
   */
  boolean isHopeless() {
    return passes > allowanceFromPass && passes >= 3 && downtimeAboveLimit()
        && hopeless(previousPassRemaining, lastPassRemaining, bandwidth, options.maxDowntimeMs());
  }

  /** A downtime-limit to set now, once per raise, or null. */
  Long nextDowntimeLimit() {
    Long r = raiseTo;
    raiseTo = null;
    return r;
  }

  long downtimeLimitMs() {
    return downtimeLimitMs;
  }

  /**
   * The remaining bytes fell recently enough (in passes and in time); time counts only once a
   * later pass failed to improve, so one long pass is never a stall.
   */
  boolean isProgressing(Instant now) {
    if (timeAtBest == null) return true;
    int patience = options.autoConverge() ? 2 : 1;
    return passes - passAtBest < (long) STALL_PASSES * patience
        && (passes == passAtBest || Duration.between(timeAtBest, now).compareTo(STALL_TIME.multipliedBy(patience)) < 0);
  }

  boolean downtimeAboveLimit() {
    return expectedDowntimeMs > options.maxDowntimeMs();
  }

  /** Pre-copy will not finish by itself within the downtime limit. */
  boolean isStuck(Instant now) {
    return passes >= 2 && !isProgressing(now) && downtimeAboveLimit();
  }

  /**
   * The next auto-converge rung when pre-copy is stuck and a steeper throttle is left, or null.
   * Taking it restarts the stall watch: the new throttle gets its own passes to show an effect.
   */
  Map<String, Object> nextThrottle(Instant now) {
    if (!throttleLeft() || !isStuck(now)) return null;
    throttleRung++;
    // the next pass's first sample starts the watch anew
    bestRemaining = Long.MAX_VALUE;
    passAtBest = passes;
    timeAtBest = now;
    return throttle(throttleRung);
  }

  /** The parameters of auto-converge rung {@code rung}; rung 0 is sent with the migration. */
  static Map<String, Object> throttle(int rung) {
    return Map.of("cpu-throttle-increment", THROTTLE_STEPS[rung]);
  }

  /** No byte moved for {@link #STREAM_STALL}: the link or the target stopped taking the stream. */
  boolean streamStalled(Instant now) {
    return movedAt != null && Duration.between(movedAt, now).compareTo(STREAM_STALL) >= 0;
  }

  /** Why the stream is considered dead, with the numbers. */
  String stallReason(Instant now) {
    return "the migration stream moved no byte for " + Duration.between(movedAt, now).toSeconds() + " s (stuck at "
        + Sizes.format(movedBytes) + " sent, limit " + STREAM_STALL.toSeconds() + " s): the link to the target or the"
        + " target itself stopped taking it";
  }

  /**
   * {@code always}: right after the first full pass; {@code auto}: once pre-copy is stuck. Never
   * over a stream that stopped moving: post-copy would hand the guest to a target it cannot reach.
   */
  boolean shouldSwitchToPostcopy(Instant now) {
    if (!options.postcopyArmed()) return false;
    if (!moving(now)) return false;
    return switch (options.postcopy()) {
      case "always" -> passes >= 2;
      // auto-converge's steeper rungs come first: post-copy once none is left
      case "auto" -> (isStuck(now) || isHopeless()) && !throttleLeft();
      default -> false;
    };
  }

  /** Stuck and no escalation left: cancel. */
  boolean shouldGiveUp(Instant now) {
    // a stream that stopped moving is not a guest that outruns it: streamStalled says why, with its own reason
    return isStuck(now) && !throttleLeft() && !shouldSwitchToPostcopy(now) && moving(now);
  }

  private boolean moving(Instant now) {
    return movedAt == null || Duration.between(movedAt, now).compareTo(MOVING_FOR_POSTCOPY) <= 0;
  }

  private boolean throttleLeft() {
    return options.autoConverge() && throttleRung + 1 < THROTTLE_STEPS.length;
  }

  String progressText() {
    return Sizes.format(remaining) + " still to send after " + passes + " passes, dirty rate " + rate(dirtyRate)
        + " vs bandwidth " + rate((long) bandwidth);
  }

  /** Why pre-copy is stuck, with the numbers, and what would work. */
  String stuckReason() {
    // QEMU's dirty rate counts distinct pages per sync interval: a guest rewriting a small working
    // set fast reads low here; what blocks the switchover is the remainder against B x downtime
    StringBuilder b = new StringBuilder("pre-copy does not converge: the guest dirties ").append(rate(dirtyRate))
        .append(" of distinct pages (as qemu counts them) and the stream moves ").append(rate((long) bandwidth)).append("; ").append(Sizes.format(remaining))
        .append(" still to send after ").append(passes).append(" passes, expected downtime ")
        .append(expectedDowntimeMs == Long.MAX_VALUE ? "unknown" : expectedDowntimeMs + " ms").append(" > limit ")
        .append(options.maxDowntimeMs()).append(" ms; the vm keeps running on the source. Would work: ");
    if (options.multifd() == null) b.append("--postcopy auto, ");
    if (expectedDowntimeMs != Long.MAX_VALUE) b.append("--max-downtime ").append(expectedDowntimeMs + 100).append(", ");
    if (options.bandwidthCapped() && options.maxDowntimeMs() > 0) {
      long needed = remaining * 1000 / options.maxDowntimeMs();
      b.append("--bandwidth above ").append(rate(Math.max(needed, dirtyRate))).append(", ");
    }
    if (!options.autoConverge()) b.append("--auto-converge, ");
    else b.append("(auto-converge throttled up to steps of ").append(THROTTLE_STEPS[throttleRung]).append(" %) ");
    b.append("or a quieter guest");
    return b.toString();
  }

  private static String rate(long bytesPerS) {
    return Sizes.format(Math.max(0, bytesPerS)) + "/s";
  }
}
