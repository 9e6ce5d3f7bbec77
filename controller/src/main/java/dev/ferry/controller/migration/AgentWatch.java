package dev.ferry.controller.migration;

import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorProgress;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What the two agents of a live migration say: the source's stats ({@code outgoing}) turned into
 * the record's figures and published, and the target's state ({@code incoming}), which must stay
 * able to take the guest.
 */
final class AgentWatch {

  static final Duration PUBLISH_EVERY = Duration.ofMillis(500);
  static final Duration TARGET_CHECK_EVERY = Duration.ofSeconds(1);
  /** the target agent may be silent this long before the migration rolls back */
  static final Duration TARGET_SILENCE = Duration.ofSeconds(15);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final Convergence convergence;
  private final Progress progress = new Progress();
  private MigrationStats last;
  private Instant lastPublished = Instant.EPOCH;
  private Instant lastTargetCheck = Instant.EPOCH;
  private Instant targetSilentSince;

  AgentWatch(MigrationContext ctx, MigrationRecord record, Convergence convergence) {
    this.ctx = ctx;
    this.record = record;
    this.convergence = convergence;
  }

  /** Takes the source's stats into the record and the convergence judgement; published as progress of {@code phase}. */
  void observe(MigrationStats s, LivePhase phase) {
    last = s;
    long mirrored = 0;
    long mirrorLeft = 0;
    for (MirrorProgress m : s.mirrors() == null ? List.<MirrorProgress>of() : s.mirrors()) {
      mirrored += m.offset();
      mirrorLeft += Math.max(0, m.length() - m.offset());
    }
    long remaining = s.ramRemainingBytes() + mirrorLeft;
    Instant now = ctx.clock().instant();
    progress.sample(s.ramTransferredBytes() + mirrored, s.ramTransferredBytes() + mirrored + remaining, now);
    convergence.observe(s, remaining, now);
    record.transferredBytes = progress.done();
    record.remainingBytes = remaining;
    record.totalBytes = progress.done() + remaining;
    double rate = s.mbps() > 0 ? s.mbps() * 1e6 / 8 : progress.rate() == null ? 0 : progress.rate();
    record.throughput = rate > 0 ? rate : null;
    if (s.ramProcessedBytes() != null && s.ramProcessedBytes() > 0 && s.totalTimeMs() != null && s.totalTimeMs() > 0) {
      record.ramRate = s.ramProcessedBytes() * 1000.0 / s.totalTimeMs();
    }
    record.dirtyRate = (double) s.dirtyRateBytesPerS();
    record.passes = (int) s.passes();
    record.diskBytesMirrored = Math.max(record.diskBytesMirrored, mirrored);
    double net = rate - s.dirtyRateBytesPerS();
    // pre-copy finishes only while the stream outruns the guest: no rate, no ETA
    record.etaMs = remaining == 0 ? Long.valueOf(0) : net > 1 ? Long.valueOf((long) (remaining / net * 1000)) : null;
    publishProgress(now, phase);
  }

  /** The source's stats last observed by this runner, or null. */
  MigrationStats last() {
    return last;
  }

  static long mirrored(MigrationStats s) {
    return s.mirrors() == null ? 0 : s.mirrors().stream().mapToLong(MirrorProgress::offset).sum();
  }

  /** Why the target cannot take the guest any more, or null; checked every {@link #TARGET_CHECK_EVERY}. */
  String targetProblem(Instant now) {
    if (Duration.between(lastTargetCheck, now).compareTo(TARGET_CHECK_EVERY) < 0) return null;
    lastTargetCheck = now;
    IncomingStatus st;
    try {
      st = ctx.agent(record.target).incomingStatus(record.vm);
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) {
        return "host '" + record.target + "' has no incoming migration of vm '" + record.vm + "' any more";
      }
      if (e.kind() != Kind.UNAVAILABLE && e.kind() != Kind.AGENT_FAILED) throw e;
      if (targetSilentSince == null) targetSilentSince = now;
      if (Duration.between(targetSilentSince, now).compareTo(TARGET_SILENCE) < 0) return null;
      return "the agent of target host '" + record.target + "' did not answer for "
          + Duration.between(targetSilentSince, now).toSeconds() + " s: " + e.getMessage();
    }
    targetSilentSince = null;
    if (st.migrationStatus() == QemuMigrationStatus.GONE) {
      return "the target qemu on host '" + record.target + "' is gone" + (st.error() == null ? "" : ": " + st.error());
    }
    if (st.migrationStatus() == QemuMigrationStatus.FAILED) {
      return "the target qemu on host '" + record.target + "' failed to receive the migration"
          + (st.error() == null ? "" : ": " + st.error());
    }
    if (st.phase() == IncomingPhase.ROLLED_BACK) return "host '" + record.target + "' rolled the incoming migration back";
    return null;
  }

  /** The source's stats, or null when it has no outgoing migration of this VM. */
  MigrationStats sourceStats() {
    try {
      return ctx.retrying(record.source, "status of the outgoing migration",
          () -> ctx.agent(record.source).outgoingStats(record.vm));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return null;
      throw e;
    }
  }

  /**
   * The source's stats once its phase is no longer {@code last}'s, or after {@code atMost}: one
   * request that the agent answers on its QEMU's event. Null when the answer came at once with the
   * same phase (an agent that does not wait: an older one, a test's), for the caller to poll at its
   * own pace.
   */
  Waited sourceStatsOnChange(MigrationStats last, Duration atMost) {
    if (!ctx.agent(record.source).waitsForPhaseChange()) return null;
    long t0 = System.nanoTime();
    MigrationStats s;
    try {
      s = ctx.retrying(record.source, "status of the outgoing migration", () -> ctx.agent(record.source)
          .outgoingStats(record.vm, last.phase().wire(), (int) atMost.toMillis()));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return new Waited(null);
      throw e;
    }
    if (s.phase() == last.phase() && System.nanoTime() - t0 < atMost.toNanos() / 2) return null;
    return new Waited(s);
  }

  /** What a waiting agent answered: {@code stats} null when the source has no migration of the VM any more. */
  record Waited(MigrationStats stats) {}

  MigrationStats quietSourceStats() {
    try {
      return sourceStats();
    } catch (ControllerException e) {
      return null;
    }
  }

  /**
   * Whether the target's QEMU died before its guest ever ran: its agent still says
   * {@code listening} (it records {@code resuming} before sending {@code cont}) and the QEMU is gone.
   * Only then is the completed source's paused copy the one whole guest left.
   */
  boolean targetDiedUnresumed() {
    IncomingStatus st = targetStatus();
    return st != null && record.id.equals(st.migrationId()) && st.phase() == IncomingPhase.LISTENING
        && st.migrationStatus() == QemuMigrationStatus.GONE;
  }

  IncomingStatus targetStatus() {
    try {
      return ctx.retrying(record.target, "status of the incoming migration",
          () -> ctx.agent(record.target).incomingStatus(record.vm));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return null;
      throw e;
    }
  }

  private void publishProgress(Instant now, LivePhase phase) {
    if (Duration.between(lastPublished, now).compareTo(PUBLISH_EVERY) < 0) return;
    lastPublished = now;
    ctx.progress(record, phase.text());
    ctx.events().publish("migration.progress", record.id, ctx.view(record));
  }
}
