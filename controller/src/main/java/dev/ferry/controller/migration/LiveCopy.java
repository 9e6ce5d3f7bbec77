package dev.ferry.controller.migration;

import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.NbdTarget;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The copy of the running guest from source to target, {@link LivePhase#MIGRATING} and
 * {@link LivePhase#SWITCHOVER}: the source streams, the controller climbs the escalation ladder
 * while pre-copy is stuck, and answers each phase with the next one. Until post-copy starts, a
 * cancel, a timeout or a target that can no longer take the guest means a rollback.
 */
final class LiveCopy {

  private static final Logger LOG = LoggerFactory.getLogger(LiveCopy.class);
  static final Duration POLL = Duration.ofMillis(250);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final LiveOptions options;
  private final AtomicBoolean cancel;
  private final Convergence convergence;
  private final AgentWatch watch;
  private final TargetPreparation target;
  private final PostcopyLink link;
  /** post-copy only: the target guest was resumed while pages still arrive */
  private boolean targetRunning;
  /** post-copy: when the switch was asked for (the source stops at once), and when the target ran */
  private Instant postcopyAskedAt;
  private Long postcopyPauseMs;

  LiveCopy(MigrationContext ctx, MigrationRecord record, LiveOptions options, AtomicBoolean cancel,
      Convergence convergence, AgentWatch watch, TargetPreparation target) {
    this.ctx = ctx;
    this.record = record;
    this.options = options;
    this.cancel = cancel;
    this.convergence = convergence;
    this.watch = watch;
    this.target = target;
    this.link = new PostcopyLink(ctx, record);
  }

  // ---- MIGRATING

  /** Starts the source (unless it already runs this migration) and watches it; the next phase. */
  LivePhase migrate() {
    MigrationStats s = watch.sourceStats();
    if (s == null || !record.id.equals(s.migrationId())) {
      IncomingReady ready = target.ready();
      AgentVmStatus live = ctx.agents().get(ctx.host(record.source), record.vmPath(), AgentVmStatus.class);
      NbdTarget nbd = ready.nbdPort() == null ? null : new NbdTarget(ready.nbdHost(), ready.nbdPort(), ready.exports());
      var body = new OutgoingRequest(record.id, ready.migrationUri(), options.sourceCapabilities(),
          options.sourceParameters(live.memoryGivenBytes()), nbd);
      s = ctx.retrying(record.source, "start of the outgoing migration",
          () -> ctx.agents().post(ctx.host(record.source), record.vmPath() + "/outgoing", body, MigrationStats.class));
      LOG.info("migration {}: host {} sends vm {} to {} (capabilities {}, parameters {})", record.id, record.source,
          record.vm, ready.migrationUri(), body.capabilities(), body.parameters());
      if (record.escalations.isEmpty()) record.escalations.addAll(options.firstRungs());
    }
    while (true) {
      watch.observe(s, LivePhase.MIGRATING);
      switch (s.phase()) {
        case "completed", "switchover", "handed_over" -> {
          return LivePhase.SWITCHOVER;
        }
        case "failed" -> {
          record.reason = "the migration failed on host '" + record.source + "': " + s.error()
              + "; the vm keeps running there";
          return LivePhase.CANCELLING;
        }
        case "cancelled" -> {
          if (!cancel.get()) record.reason = "host '" + record.source + "' cancelled the migration: " + s.error();
          return LivePhase.CANCELLING;
        }
        default -> { }
      }
      if (s.status() != null && s.status().startsWith("postcopy")) return LivePhase.SWITCHOVER;
      Instant now = ctx.clock().instant();
      if (mustRollBack(now, LivePhase.MIGRATING)) return LivePhase.CANCELLING;
      Map<String, Object> throttle = convergence.nextThrottle(now);
      if (throttle != null) steepenThrottle(throttle);
      if (convergence.shouldSwitchToPostcopy(now)) {
        return startPostcopy() ? LivePhase.SWITCHOVER : LivePhase.CANCELLING;
      }
      if (convergence.shouldGiveUp(now)) {
        record.reason = convergence.stuckReason();
        return LivePhase.CANCELLING;
      }
      ctx.sleep(POLL);
      s = watch.sourceStats();
      if (s == null) throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration of vm '"
          + record.vm + "' any more");
    }
  }

  /**
   * Switches to post-copy unless a cancel came first: both happen under the cancel flag's lock,
   * and the record says post-copy before the agent is asked, so a cancel after this is refused.
   */
  private boolean startPostcopy() {
    synchronized (cancel) {
      if (cancel.get()) return false;
      record.postcopy = true;
      record.escalations.add("post-copy after " + record.passes + " passes (--postcopy " + options.postcopy() + ")");
      ctx.progress(record, LivePhase.MIGRATING.text());
    }
    LOG.info("migration {}: switching vm {} to post-copy ({}, policy {})", record.id, record.vm,
        convergence.progressText(), options.postcopy());
    postcopyAskedAt = ctx.clock().instant();
    ctx.retrying(record.source, "switch to post-copy",
        () -> ctx.agents().post(ctx.host(record.source), record.vmPath() + "/outgoing/postcopy", null, MigrationStats.class));
    return true;
  }

  /** An escalation rung mid-flight: QEMU takes throttle parameters while migrating (not capabilities). */
  private void steepenThrottle(Map<String, Object> throttle) {
    LOG.info("migration {}: pre-copy of vm {} stuck ({}); auto-converge steeper: {}", record.id, record.vm,
        convergence.progressText(), throttle);
    ctx.retrying(record.source, "auto-converge step", () -> ctx.agents().post(ctx.host(record.source),
        record.vmPath() + "/outgoing/parameters", new MigrationTuning(throttle), MigrationStats.class));
    record.escalations.add("auto-converge throttle step " + throttle.get("cpu-throttle-increment") + " % after "
        + record.passes + " passes");
  }

  /** Before post-copy: a cancel, a target that can no longer take the guest, or the timeout; the reason is recorded. */
  private boolean mustRollBack(Instant now, LivePhase phase) {
    if (cancel.get()) return true;
    String gone = watch.targetProblem(now);
    if (gone != null) {
      record.reason = gone + "; rolled back, the vm keeps running on host '" + record.source + "'";
      return true;
    }
    return timedOut(now, phase);
  }

  private boolean timedOut(Instant now, LivePhase phase) {
    if (options.timeoutMs() == null || record.startedAt == null) return false;
    long elapsed = Duration.between(record.startedAt, now).toMillis();
    if (elapsed < options.timeoutMs()) return false;
    record.reason = "timed out after " + elapsed + " ms (--timeout " + options.timeoutMs() + " ms) in phase "
        + phase.text() + ": " + convergence.progressText() + "; rolled back, the vm keeps running on host '"
        + record.source + "'";
    return true;
  }

  // ---- SWITCHOVER

  /** Waits for QEMU's {@code completed}: the source paused (or post-copy ran) and the target holds the guest. */
  LivePhase awaitCompleted() {
    while (true) {
      MigrationStats s = watch.sourceStats();
      if (s == null || !record.id.equals(s.migrationId())) {
        throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration " + record.id
            + " of vm '" + record.vm + "' any more");
      }
      watch.observe(s, LivePhase.SWITCHOVER);
      if (record.postcopy && !targetRunning && "postcopy-active".equals(s.status())) {
        targetRunning = resumeTargetDuringPostcopy();
      }
      if (record.postcopy) link.watch(s, ctx.clock().instant());
      switch (s.phase()) {
        case "completed", "handed_over" -> {
          return LivePhase.RESUMING_TARGET;
        }
        case "failed" -> {
          record.reason = (record.postcopy ? "post-copy failed on host '" : "switchover failed on host '") + record.source
              + "': " + s.error();
          return LivePhase.CANCELLING;
        }
        case "cancelled" -> {
          if (!cancel.get()) record.reason = "host '" + record.source + "' cancelled the migration: " + s.error();
          return LivePhase.CANCELLING;
        }
        default -> { }
      }
      if (!record.postcopy && mustRollBack(ctx.clock().instant(), LivePhase.SWITCHOVER)) return LivePhase.CANCELLING;
      ctx.sleep(POLL);
    }
  }

  /**
   * Post-copy hands the guest's CPU state to the target at the switch: the source can no longer
   * run it, so the target must run it now, fetching pages on demand. The target's agent resumes it
   * on its own QEMU's event; this call is the idempotent fallback (an agent restarted meanwhile)
   * and, when it answers, the end of the pause the controller observed.
   */
  private boolean resumeTargetDuringPostcopy() {
    try {
      IncomingStatus st = ctx.agents().call(ctx.host(record.target), "POST", record.vmPath() + "/incoming/finish", null,
          IncomingStatus.class, TargetPreparation.PREPARE_TIMEOUT);
      if (postcopyAskedAt != null) postcopyPauseMs = Duration.between(postcopyAskedAt, ctx.clock().instant()).toMillis();
      LOG.info("migration {}: vm {} runs on host {} during post-copy ({})", record.id, record.vm, record.target,
          st == null ? "?" : st.phase());
      return true;
    } catch (ControllerException e) {
      // the target may not have entered post-copy yet; the next poll asks again
      LOG.debug("migration {}: target not ready to run during post-copy yet: {}", record.id, e.getMessage());
      return false;
    }
  }

  /** The figures of the final record from the last stats: QEMU's downtime, or the observed pause when QEMU says 0. */
  void applyFinal() {
    MigrationStats last = watch.last();
    if (last == null) return;
    record.transferredBytes = Math.max(record.transferredBytes, last.ramTransferredBytes() + AgentWatch.mirrored(last));
    // in post-copy the source's stop-to-completed spans the whole post-copy phase, while the guest
    // already ran on the target: the pause is from the switch to the target's resume
    record.observedPauseMs = postcopyPauseMs != null ? postcopyPauseMs : last.pauseMs();
    Long qemu = last.downtimeMs();
    record.downtimeMs = qemu != null && qemu > 0 ? qemu : record.observedPauseMs;
    record.passes = (int) last.passes();
  }
}
