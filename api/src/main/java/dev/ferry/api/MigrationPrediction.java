package dev.ferry.api;

/**
 * What a live migration is predicted to take, before it starts: {@code POST
 * /api/migrations/live/dry-run} answers it, and every real live migration keeps the one made as
 * it started in its record ({@link MigrationView#prediction}) so that actual can be compared.
 *
 * <p>The model: pre-copy passes at {@code bandwidth_mib_s} (the link, or the user's cap when lower);
 * the first pass sends the guest's resident RAM ({@code resident_mib}: the rest was never touched
 * and goes as zero pages), each later one what the guest dirtied during the
 * one before (dirty rate × pass time, at most the RAM); QEMU switches over once what is left can
 * be sent within the downtime-limit in force, which is Ferry's: a sixth of {@code max_downtime_ms}
 * at the start, raised towards it when a pass no longer shrinks what is left (the explanation
 * says which limit the switch came under). When that never happens Ferry's policy acts as it
 * would: auto-converge throttles the guest, then post-copy if allowed, else the migration is
 * cancelled.
 *
 * @param predictedTotalMs    start to completion (to the cancel when {@code outcome} is cancelled)
 * @param predictedDowntimeMs the switchover pause; null for post-copy (the switch itself) and a cancel
 * @param dirtyRateMibS       what QEMU's {@code calc-dirty-rate} (page sampling) measured on the source
 * @param dirtyRateCalcS      how long it measured, seconds
 * @param linkMibS            the link throughput used
 * @param linkSource          {@code measured}: the best of what the last 5 uncapped live migrations
 *                            between the two hosts achieved (QEMU's average at completion);
 *                            {@code default}: none yet (1 Gbit/s; a dry run's only choice);
 *                            {@code first-seconds}: none yet, so a migration's record took the RAM
 *                            its own first pass got through per second over its first half second
 * @param linkNote            where {@code link_mib_s} comes from, in words
 * @param bandwidthMibS       what the migration would run at: the link, or the user's cap if lower
 * @param maxDowntimeMs       the downtime allowed ({@code --max-downtime}), the highest limit the policy may raise to
 * @param guestMib            the guest's RAM, the first pass
 * @param converges           pre-copy reaches the downtime limit, by itself or throttled by auto-converge
 * @param passes              pre-copy passes until the switchover (or the escalation)
 * @param outcome             {@code pre-copy}, {@code auto-converge}, {@code post-copy} or {@code cancelled}
 * @param explanation         the outcome in words, with what Ferry would do
 * @param residentMib         how much of the guest's RAM its source QEMU held in memory when
 *                            measured, the first pass's data; null when the agent did not say (the
 *                            model then sends the whole RAM)
 */
public record MigrationPrediction(
    Long predictedTotalMs,
    Long predictedDowntimeMs,
    double dirtyRateMibS,
    long dirtyRateCalcS,
    double linkMibS,
    String linkSource,
    String linkNote,
    double bandwidthMibS,
    long maxDowntimeMs,
    long guestMib,
    boolean converges,
    int passes,
    String outcome,
    String explanation,
    Long residentMib) {

  /** A prediction without the resident size (controllers before it, tests). */
  public MigrationPrediction(Long predictedTotalMs, Long predictedDowntimeMs, double dirtyRateMibS, long dirtyRateCalcS,
      double linkMibS, String linkSource, String linkNote, double bandwidthMibS, long maxDowntimeMs, long guestMib,
      boolean converges, int passes, String outcome, String explanation) {
    this(predictedTotalMs, predictedDowntimeMs, dirtyRateMibS, dirtyRateCalcS, linkMibS, linkSource, linkNote,
        bandwidthMibS, maxDowntimeMs, guestMib, converges, passes, outcome, explanation, null);
  }

  public static final String MEASURED = "measured";
  public static final String DEFAULT = "default";
  public static final String FIRST_SECONDS = "first-seconds";
}
