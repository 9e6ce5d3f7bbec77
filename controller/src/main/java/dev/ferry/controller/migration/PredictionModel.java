package dev.ferry.controller.migration;

import dev.ferry.api.MigrationPrediction;

/**
 * The pre-copy model behind a {@link MigrationPrediction}, a pure function of its inputs, following
 * what Ferry's policy makes QEMU do. The link L is RAM gone through per second (zero pages and
 * pages sent alike: {@link Predictor}), B the lower of L and the bandwidth cap. Pass 1 visits the
 * whole RAM at L, and no faster than the cap lets the guest's resident RAM out (a page its QEMU
 * never faulted in is zero and costs the scan, not the link); each later pass sends what the
 * guest dirtied during the one before (dirty rate × pass time, at most the RAM) at B. QEMU
 * switches over after a pass whose remainder it can send within the downtime-limit in force
 * (remainder / B ≤ limit), and that send is the downtime. The limit in force is the one Ferry sets:
 * {@link LiveOptions#startDowntimeMs} at the start (50 ms of the default 300), so a converging
 * guest takes the passes that bring its remainder under that, not under the allowance; and, as
 * {@link Convergence} judges from QEMU's third pass on, a pass that leaves at least
 * {@link Convergence#PLATEAU} of the one before raises the limit to
 * {@link Convergence#raisedLimitMs} of its remainder, after which QEMU switches at once when that
 * is within the allowance. When the remainder stops falling, the rest of the policy is followed:
 * stuck after {@link Convergence#STALL_PASSES} passes or {@link Convergence#STALL_TIME} without a
 * {@link Convergence#MIN_IMPROVEMENT} fall (twice that with auto-converge), then the next throttle
 * rung, then post-copy when armed, else a cancel.
 *
 * <p>Auto-converge as QEMU 7.2 does it: after every second pass in which the guest dirtied more
 * than half of what was sent ({@code throttle-trigger-threshold} 50), the vCPUs are throttled,
 * first by {@code cpu-throttle-initial} (20 %), then by the current increment more, up to 99 %; a
 * throttled guest dirties in proportion to the CPU time it is left. Not modelled: the switchover's fixed cost (device state, the target's start), that QEMU checks its limit after
 * each chunk of up to 50 ms of sending (so it switches with part of a chunk still to send, and
 * sends it with the guest stopped, faster than while the guest competes for the CPU: measured
 * pauses under a 50 ms limit were 2–27 ms where this model says 10–45), and a working set smaller
 * than one pass's dirtying (page sampling measures distinct pages per second).
 */
final class PredictionModel {

  /** QEMU's cpu-throttle-initial and its cap (cpu-throttle-tailslow off). */
  static final double THROTTLE_INITIAL = 0.20;
  static final double THROTTLE_MAX = 0.99;
  /** no real migration runs this many passes: the prediction stops and says it does not converge */
  static final int MAX_PASSES = 1000;

  /**
   * What the model is given.
   *
   * @param guestBytes     the guest's RAM
   * @param residentBytes  how much of it the source QEMU holds in memory (at most what the first pass
   *                       sends in full); the whole RAM when not known
   * @param dirtyBytesPerS the measured dirty rate
   * @param linkBytesPerS  the guest RAM a migration goes through per second between the two hosts
   * @param options        the policy the migration would run with
   */
  record Inputs(long guestBytes, long residentBytes, double dirtyBytesPerS, double linkBytesPerS, LiveOptions options) {}

  /**
   * The model's answer; times in ms, downtime null when there is no pre-copy switchover, and then
   * {@code limitMs} 0, else the downtime-limit QEMU switches under.
   */
  record Result(long totalMs, Long downtimeMs, boolean converges, int passes, String outcome, String explanation,
      double bandwidthBytesPerS, long limitMs) {}

  private PredictionModel() {}

  static Result predict(Inputs in) {
    LiveOptions o = in.options();
    double b = Math.min(in.linkBytesPerS(), o.bandwidthBytesPerS());
    if (b <= 0) throw new IllegalArgumentException("no bandwidth to predict with");
    long limitMs = o.startDowntimeMs();
    String raised = "";
    double ram = in.guestBytes();
    double resident = in.residentBytes() > 0 ? Math.min(ram, in.residentBytes()) : ram;
    double remaining = ram;
    double t = 0;
    double best = Double.MAX_VALUE;
    int passAtBest = 0;
    double timeAtBest = 0;
    double throttle = 0;
    int highPasses = 0;
    int rung = 0;
    int patience = o.autoConverge() ? 2 : 1;
    int allowanceFrom = limitMs >= o.maxDowntimeMs() ? 0 : Integer.MAX_VALUE;
    for (int pass = 1; pass <= MAX_PASSES; pass++) {
      double passS = pass == 1 ? Math.max(ram / in.linkBytesPerS(), resident / o.bandwidthBytesPerS()) : remaining / b;
      t += passS;
      double dirtied = Math.min(ram, in.dirtyBytesPerS() * (1 - throttle) * passS);
      double sendS = dirtied / b;
      if (sendS <= limitMs / 1000.0) return switchover(t, sendS, pass, throttle, limitMs, raised, o, b);
      if (o.postcopyArmed() && o.postcopy().equals("always")) {
        return postcopy(t, dirtied, b, pass, "--postcopy always: switches to post-copy after the first pass");
      }
      // the controller compares this remainder with the pass before's (QEMU's third pass on)
      if (pass >= 2 && limitMs < o.maxDowntimeMs() && Convergence.isPlateau(remaining, dirtied)) {
        limitMs = Convergence.raisedLimitMs(limitMs, ms(sendS), o.maxDowntimeMs());
        raised = ", the limit raised to " + limitMs + " ms after pass " + pass + " left "
            + Math.round(dirtied * 100 / remaining) + " % of the one before";
        if (sendS <= limitMs / 1000.0) return switchover(t, sendS, pass, throttle, limitMs, raised, o, b);
        if (limitMs >= o.maxDowntimeMs()) allowanceFrom = pass;
      } else if (o.postcopyArmed() && o.postcopy().equals("auto") && pass > allowanceFrom
          && !(o.autoConverge() && rung + 1 < Convergence.THROTTLE_STEPS.length)
          && Convergence.hopeless(remaining, dirtied, b, o.maxDowntimeMs())) {
        return postcopy(t, dirtied, b, pass, "pre-copy would need more than " + Convergence.STALL_PASSES
            + " more passes after pass " + pass + "; --postcopy auto switches to post-copy");
      }
      if (o.autoConverge() && dirtied > 0.5 * remaining && ++highPasses >= 2) {
        highPasses = 0;
        double step = Convergence.THROTTLE_STEPS[rung] / 100.0;
        throttle = Math.min(THROTTLE_MAX, throttle == 0 ? THROTTLE_INITIAL : throttle + step);
      }
      if (dirtied < best * (1 - Convergence.MIN_IMPROVEMENT)) {
        best = dirtied;
        passAtBest = pass;
        timeAtBest = t;
      }
      boolean stalled = pass - passAtBest >= Convergence.STALL_PASSES * patience
          || (t - timeAtBest) >= Convergence.STALL_TIME.toSeconds() * patience;
      remaining = dirtied;
      if (!stalled) continue;
      if (o.autoConverge() && rung + 1 < Convergence.THROTTLE_STEPS.length) {
        rung++;
        best = remaining;
        passAtBest = pass;
        timeAtBest = t;
      } else if (o.postcopyArmed() && o.postcopy().equals("auto")) {
        return postcopy(t, remaining, b, pass, "pre-copy stalls after " + pass + " passes; --postcopy auto switches"
            + " to post-copy");
      } else {
        return new Result(ms(t), null, false, pass, "cancelled", "pre-copy stalls after " + pass + " passes with "
            + mib(remaining) + " MiB left (" + ms(remaining / b) + " ms to send > limit " + o.maxDowntimeMs()
            + " ms): Ferry cancels it and the vm keeps running on the source" + wouldWork(o), b, 0);
      }
    }
    return new Result(ms(t), null, false, MAX_PASSES, "cancelled", "no switchover within " + MAX_PASSES + " passes", b, 0);
  }

  /** QEMU switches over after pass {@code pass} and sends its last remainder in {@code sendS} with the guest stopped. */
  private static Result switchover(double t, double sendS, int pass, double throttle, long limitMs, String raised,
      LiveOptions o, double b) {
    boolean throttled = throttle > 0;
    String how = throttled ? "converges with auto-converge throttling the guest by " + pct(throttle) + " after "
        + pass + " passes" : "converges by itself after " + pass + " passes";
    String limit = raised.isEmpty() ? " (QEMU's downtime limit " + limitMs + " ms, of the " + o.maxDowntimeMs()
        + " ms allowed)" : raised;
    return new Result(ms(t + sendS), ms(sendS), true, pass, throttled ? "auto-converge" : "pre-copy", how + limit, b,
        limitMs);
  }

  /** Post-copy: the target runs the guest at once and pulls the last remainder; the switch's pause is not modelled. */
  private static Result postcopy(double t, double remaining, double b, int pass, String why) {
    return new Result(ms(t + remaining / b), null, false, pass, "post-copy", why + "; the last " + mib(remaining)
        + " MiB follow after the guest runs on the target", b, 0);
  }

  private static String wouldWork(LiveOptions o) {
    var ways = new java.util.ArrayList<String>();
    if (!o.autoConverge()) ways.add("--auto-converge");
    if (!o.postcopyArmed() && o.multifd() == null) ways.add("--postcopy auto");
    return ways.isEmpty() ? "" : "; " + String.join(" or ", ways) + " would let it finish";
  }

  private static long ms(double s) {
    return Math.round(s * 1000);
  }

  private static long mib(double bytes) {
    return Math.round(bytes / (1 << 20));
  }

  private static String pct(double share) {
    return Math.round(share * 100) + " %";
  }
}
