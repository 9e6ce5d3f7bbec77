package dev.ferry.controller.migration;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.ferry.api.Json;
import dev.ferry.api.MigrationPlan;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The mutable working copy of a {@link MigrationView}; the runner owns it, the store keeps snapshots. */
final class MigrationRecord {

  String id;
  String kind;
  String vm;
  String source;
  String target;
  MigrationStatus status = MigrationStatus.RUNNING;
  String phase;
  Instant startedAt;
  Instant endedAt;
  long transferredBytes;
  long remainingBytes;
  long totalBytes;
  Double throughput;
  /** live: guest RAM gone through per second (see {@link MigrationView#ramRateBytesPerS}) */
  Double ramRate;
  Double dirtyRate;
  int passes;
  Long etaMs;
  Long downtimeMs;
  Long observedPauseMs;
  boolean postcopy;
  int postcopyRecoveries;
  /** what the convergence policy did, in order; appended by the runner, shown as is */
  List<String> escalations = new java.util.ArrayList<>();
  long diskBytesMirrored;
  Boolean verified;
  String reason;
  List<String> disks = List.of();
  /** why a step that may only be retried keeps failing; null while nothing is stuck */
  String stuck;
  /** live: what preflight decided, persisted with the record and never re-derived */
  MigrationPlan plan;
  /** storage: disks kept on their old images by a partial pivot */
  List<String> disksKept = List.of();
  /** live: what the target sent after the switchover so the network finds the guest there */
  String networkAnnounce;
  /** live: the total and downtime predicted as it started; null until the source's measurement is in */
  dev.ferry.api.MigrationPrediction prediction;
  /** cold: disk bytes sent, and bytes skipped as holes or zeroes */
  long copiedBytes;
  long skippedBytes;
  /** warm: the cutover's predicted downtime (updated after each pass, frozen when the cutover begins) */
  Long predictedDowntimeMs;
  /** warm: bytes the guest wrote since the last pass began */
  long dirtyBytes;
  /** warm, cold with --shutdown: how long the guest took to power off */
  Long shutdownMs;
  /** warm: the cutover's hash comparison, as measured */
  Long verifyMs;
  /**
   * warm: the cutover after the final pass other than verification (exit, define, start), as
   * measured; cold with --start: its define and start (no QEMU left to exit)
   */
  Long startMs;
  /** warm, cold with --shutdown: when the guest was asked to power off; persisted before the request (downtime counts from it) */
  Instant shutdownRequestedAt;
  /** warm: why the cutover began */
  String cutoverReason;

  /**
   * A record as the store keeps it. Records only ever gain fields, so one written by an older
   * Ferry lacks the newer ones: they read as empty (0, none) instead of making the whole
   * history unreadable after an upgrade.
   */
  private static final ObjectReader STORED = Json.mapper().readerFor(MigrationView.class)
      .without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  static MigrationView readStored(String json) throws IOException {
    return STORED.readValue(json);
  }

  static MigrationRecord of(MigrationView v) {
    var r = new MigrationRecord();
    r.id = v.id();
    r.kind = v.kind();
    r.vm = v.vm();
    r.source = v.source();
    r.target = v.target();
    r.status = v.status();
    r.phase = v.phase();
    r.startedAt = v.startedAt();
    r.endedAt = v.endedAt();
    r.transferredBytes = v.transferredBytes();
    r.remainingBytes = v.remainingBytes();
    r.totalBytes = v.totalBytes();
    r.throughput = v.throughputBytesPerS();
    r.dirtyRate = v.dirtyRateBytesPerS();
    r.passes = v.passes();
    r.etaMs = v.etaMs();
    r.downtimeMs = v.downtimeMs();
    r.observedPauseMs = v.observedPauseMs();
    r.postcopy = v.postcopy();
    r.postcopyRecoveries = v.postcopyRecoveries();
    r.escalations = new java.util.ArrayList<>(v.escalations());
    r.diskBytesMirrored = v.diskBytesMirrored();
    r.verified = v.verified();
    r.reason = v.reason();
    r.disks = v.disks() == null ? List.of() : v.disks();
    r.stuck = v.stuck();
    r.plan = v.plan();
    r.disksKept = v.disksKept();
    r.networkAnnounce = v.networkAnnounce();
    r.prediction = v.prediction();
    r.copiedBytes = v.copiedBytes();
    r.skippedBytes = v.skippedBytes();
    r.predictedDowntimeMs = v.predictedDowntimeMs();
    r.dirtyBytes = v.dirtyBytes();
    r.shutdownMs = v.shutdownMs();
    r.verifyMs = v.verifyMs();
    r.startMs = v.startMs();
    r.shutdownRequestedAt = v.shutdownRequestedAt();
    r.cutoverReason = v.cutoverReason();
    r.ramRate = v.ramRateBytesPerS();
    return r;
  }

  /** Keeps what the target said it announced, once it said so. */
  void announced(dev.ferry.api.agent.IncomingStatus st) {
    if (st != null && st.networkAnnounce() != null) networkAnnounce = st.networkAnnounce();
  }

  void progress(Progress p) {
    transferredBytes = p.done();
    totalBytes = p.total();
    remainingBytes = p.remaining();
    throughput = p.rate();
    etaMs = p.etaMs();
    diskBytesMirrored = p.done();
  }

  void end(MigrationStatus finalStatus, Instant now) {
    status = finalStatus;
    endedAt = now;
    etaMs = null;
    if (finalStatus == MigrationStatus.SUCCEEDED) remainingBytes = 0;
  }

  /** The record as the API shows it; {@code now} (the controller's clock) ends a running migration's total. */
  MigrationView view(Instant now) {
    Long totalMs = startedAt == null ? null
        : Duration.between(startedAt, endedAt != null ? endedAt : now).toMillis();
    return new MigrationView(id, kind, vm, source, target, status, phase, startedAt, endedAt, totalMs,
        transferredBytes, remainingBytes, totalBytes, throughput, dirtyRate, passes, etaMs, downtimeMs,
        observedPauseMs, postcopy, diskBytesMirrored, verified, reason, disks, postcopyRecoveries,
        escalations, stuck, plan, disksKept, networkAnnounce, prediction, copiedBytes, skippedBytes,
        predictedDowntimeMs, dirtyBytes, shutdownMs, verifyMs, startMs, shutdownRequestedAt, cutoverReason, ramRate);
  }
}
