package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * A migration's record: its progress while it runs ({@code GET /api/migrations/ID}, event
 * {@code migration.progress}) and, once {@code status} is final, what happened. Scripts read
 * these fields; change them only by adding.
 *
 * @param kind              {@code live} or {@code storage}
 * @param phase             the current (or last) persisted phase, lower-case
 * @param totalMs           wall time from start to the final status
 * @param transferredBytes  bytes copied so far (memory + disks)
 * @param remainingBytes    bytes still to copy, as last measured
 * @param diskBytesMirrored disk bytes copied by mirrors or offline copies
 * @param etaMs             estimated time to finish the copy, null when unknown
 * @param downtimeMs        QEMU's own figure (live) or the pivot pause (storage)
 * @param observedPauseMs   the pause the controller measured around switchover or pivot
 * @param verified          true when verification ran and passed; false when it ran and failed; null when skipped
 * @param reason            why it did not succeed, or what was noticed on the way
 * @param postcopyRecoveries how often a broken post-copy stream was paused and reconnected
 * @param escalations       live: what the convergence policy did, in order (bandwidth, auto-converge steps, post-copy)
 * @param stuck             while a step that may only be retried (past the point of no return, or a rollback that
 *                          cannot tell what the source did) keeps failing: why, and when it is tried again; else null
 * @param plan              live: what preflight decided, defaults applied, used as is by the runner; else null
 * @param disksKept         storage: disks that stayed on their old images because their copy failed after others
 *                          had pivoted (a partial move, status failed); empty otherwise
 * @param networkAnnounce   live: what the target sent after the switchover so the network finds the guest's NICs
 *                          there ({@code announce-self} with its parameters); null without NICs and for storage
 * @param prediction        live: the total and downtime predicted as it started, from the dirty rate measured
 *                          then and the link last seen between the two hosts; null for storage, for records
 *                          older than predictions, and when the source could not measure in time
 * @param copiedBytes       cold: disk bytes the copier actually sent (the source's allocated data)
 * @param skippedBytes      cold, warm: disk bytes that read as zero (holes, zeroes) and were not sent
 * @param predictedDowntimeMs warm: the cutover's downtime as predicted (dirty bytes now / throughput of the last
 *                          passes + the guest's shutdown + boot), updated after each pass, frozen when the cutover
 *                          begins; null before the first pass
 * @param dirtyBytes        warm: bytes the guest wrote since the last pass began (what the next pass copies)
 * @param shutdownMs        warm, and cold with {@code --shutdown}: how long the guest took to power off (the next
 *                          warm prediction for the same VM uses it)
 * @param verifyMs          warm: how long comparing the two copies' hashes took at the cutover (the next prediction
 *                          for the same VM uses it); null before, and with {@code --verify none}
 * @param startMs           warm: the rest of the cutover after the final pass other than verification (the source
 *                          QEMU's exit, the definition on the target, the ownership change, the start), as
 *                          measured; cold with {@code --start}: its definition, ownership change and start; the
 *                          next warm prediction for the same VM uses it
 * @param shutdownRequestedAt warm, and cold with {@code --shutdown}: when the guest was asked to power off, persisted
 *                          before the request so that {@code downtime_ms} counts from it after a controller restart too;
 *                          null before
 * @param cutoverReason     warm: why the cutover began ({@code ferry migration cutover}, the predicted downtime within
 *                          {@code --max-downtime}, the time of {@code --cutover at:TIME} came); null before
 * @param ramRateBytesPerS  live: the guest RAM the migration went through per second (zero pages and pages sent,
 *                          once per pass that visited them, over QEMU's total time); the next predictions between the
 *                          two hosts take their link from it. Null for other kinds and for records older than it
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record MigrationView(
    String id,
    String kind,
    String vm,
    String source,
    String target,
    MigrationStatus status,
    String phase,
    Instant startedAt,
    Instant endedAt,
    Long totalMs,
    long transferredBytes,
    long remainingBytes,
    long totalBytes,
    Double throughputBytesPerS,
    Double dirtyRateBytesPerS,
    int passes,
    Long etaMs,
    Long downtimeMs,
    Long observedPauseMs,
    boolean postcopy,
    long diskBytesMirrored,
    Boolean verified,
    String reason,
    List<String> disks,
    int postcopyRecoveries,
    List<String> escalations,
    String stuck,
    MigrationPlan plan,
    List<String> disksKept,
    String networkAnnounce,
    MigrationPrediction prediction,
    long copiedBytes,
    long skippedBytes,
    Long predictedDowntimeMs,
    long dirtyBytes,
    Long shutdownMs,
    Long verifyMs,
    Long startMs,
    Instant shutdownRequestedAt,
    String cutoverReason,
    Double ramRateBytesPerS) {

  /** A view without the shutdown request's instant and the cutover's reason. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept, String networkAnnounce, MigrationPrediction prediction, long copiedBytes,
      long skippedBytes, Long predictedDowntimeMs, long dirtyBytes, Long shutdownMs, Long verifyMs, Long startMs) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept,
        networkAnnounce, prediction, copiedBytes, skippedBytes, predictedDowntimeMs, dirtyBytes, shutdownMs, verifyMs,
        startMs, null, null, null);
  }

  /** A view without the cutover's measured verification and start. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept, String networkAnnounce, MigrationPrediction prediction, long copiedBytes,
      long skippedBytes, Long predictedDowntimeMs, long dirtyBytes, Long shutdownMs) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept,
        networkAnnounce, prediction, copiedBytes, skippedBytes, predictedDowntimeMs, dirtyBytes, shutdownMs, null,
        null);
  }

  /** A view of a migration without warm passes. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept, String networkAnnounce, MigrationPrediction prediction, long copiedBytes,
      long skippedBytes) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept,
        networkAnnounce, prediction, copiedBytes, skippedBytes, null, 0, null);
  }

  /** A view of a migration that copied no disk with Ferry's copier. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept, String networkAnnounce, MigrationPrediction prediction) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept,
        networkAnnounce, prediction, 0, 0);
  }

  /** A view without a network announcement. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept, null);
  }

  /** A view without a prediction. */
  public MigrationView(String id, String kind, String vm, String source, String target, MigrationStatus status,
      String phase, Instant startedAt, Instant endedAt, Long totalMs, long transferredBytes, long remainingBytes,
      long totalBytes, Double throughputBytesPerS, Double dirtyRateBytesPerS, int passes, Long etaMs, Long downtimeMs,
      Long observedPauseMs, boolean postcopy, long diskBytesMirrored, Boolean verified, String reason,
      List<String> disks, int postcopyRecoveries, List<String> escalations, String stuck, MigrationPlan plan,
      List<String> disksKept, String networkAnnounce) {
    this(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs, transferredBytes, remainingBytes,
        totalBytes, throughputBytesPerS, dirtyRateBytesPerS, passes, etaMs, downtimeMs, observedPauseMs, postcopy,
        diskBytesMirrored, verified, reason, disks, postcopyRecoveries, escalations, stuck, plan, disksKept,
        networkAnnounce, null);
  }

  public MigrationView {
    // absent in records written before the field existed, and for storage migrations
    escalations = escalations == null ? List.of() : List.copyOf(escalations);
    disksKept = disksKept == null ? List.of() : List.copyOf(disksKept);
  }
}
