package dev.ferry.controller.migration;

import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.NbdTarget;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The copy of the running guest from source to target, {@link LivePhase#MIGRATING},
 * {@link LivePhase#POSTCOPY} and {@link LivePhase#SWITCHOVER}: the source streams, the controller
 * climbs the escalation ladder while pre-copy is stuck, and answers each phase with the next one.
 * Until post-copy starts, a cancel, a timeout, a stream that stopped moving or a target that can no
 * longer take the guest means a rollback. In post-copy the only ways out are forward or lost.
 */
final class LiveCopy {

  private static final Logger LOG = LoggerFactory.getLogger(LiveCopy.class);
  static final Duration POLL = Duration.ofMillis(250);
  /**
   * How often the source is asked while its copy may complete any moment: from QEMU's
   * {@code completed} until the target's {@code cont} the guest runs nowhere, and that wait is
   * part of what its clients see as downtime (QEMU's downtime figure leaves it out). The agent
   * answers from its cache, so these questions cost no QMP traffic.
   */
  static final Duration SWITCH_POLL = Duration.ofMillis(50);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final LiveOptions options;
  private final AtomicBoolean cancel;
  private final Convergence convergence;
  private final AgentWatch watch;
  private final TargetPreparation target;
  private final PostcopyLink link;
  private final RunPrediction prediction;
  /** post-copy only: the target guest was resumed while pages still arrive */
  private boolean targetRunning;
  /** post-copy: when the switch was asked for (the source stops at once), and when the target ran */
  private Instant postcopyAskedAt;
  private Long postcopyPauseMs;
  /** this runner asked the source to switch (a restarted one asks again; the agent observes before it acts) */
  private boolean postcopySent;

  LiveCopy(MigrationContext ctx, MigrationRecord record, LiveOptions options, AtomicBoolean cancel,
      Convergence convergence, AgentWatch watch, TargetPreparation target, RunPrediction prediction) {
    this.ctx = ctx;
    this.record = record;
    this.options = options;
    this.cancel = cancel;
    this.convergence = convergence;
    this.watch = watch;
    this.target = target;
    this.link = new PostcopyLink(ctx, record);
    this.prediction = prediction;
  }

  // ---- MIGRATING

  /** Starts the source (unless it already runs this migration) and watches it; the next phase. */
  LivePhase migrate() {
    MigrationStats s = watch.sourceStats();
    if (s == null || !record.id.equals(s.migrationId())) {
      prediction.poll();
      IncomingReady ready = target.ready();
      AgentVmStatus live = ctx.agent(record.source).vm(record.vm);
      NbdTarget nbd = ready.nbdPort() == null ? null : new NbdTarget(ready.nbdHost(), ready.nbdPort(), ready.exports());
      var body = new OutgoingRequest(record.id, ready.migrationUri(), options.sourceCapabilities(),
          options.sourceParameters(live.memoryGivenBytes()), nbd);
      s = ctx.retrying(record.source, "start of the outgoing migration",
          () -> ctx.agent(record.source).outgoing(record.vm, body));
      LOG.info("migration {}: host {} sends vm {} to {} (capabilities {}, parameters {})", record.id, record.source,
          record.vm, ready.migrationUri(), body.capabilities(), body.parameters());
      if (record.escalations.isEmpty()) record.escalations.addAll(options.firstRungs());
    }
    while (true) {
      prediction.poll(s);
      watch.observe(s, LivePhase.MIGRATING);
      switch (s.phase()) {
        case COMPLETED, SWITCHOVER, HANDED_OVER -> {
          return LivePhase.SWITCHOVER;
        }
        case FAILED -> {
          record.reason = "the migration failed on host '" + record.source + "': " + s.error()
              + "; the vm keeps running there";
          return LivePhase.CANCELLING;
        }
        case CANCELLED, RECLAIMED -> {
          if (!cancel.get()) record.reason = "host '" + record.source + "' cancelled the migration: " + s.error();
          return LivePhase.CANCELLING;
        }
        default -> { }
      }
      // a switch an older controller asked for before it recorded post-copy as a phase
      if (s.status() != null && s.status().postcopy()) return LivePhase.POSTCOPY;
      Instant now = ctx.clock().instant();
      if (mustRollBack(now, LivePhase.MIGRATING)) return LivePhase.CANCELLING;
      // checked before any escalation: a dead link must never be taken for a guest that outruns it
      if (convergence.streamStalled(now)) {
        record.reason = convergence.stallReason(now) + "; rolled back, the vm keeps running on host '" + record.source + "'";
        return LivePhase.CANCELLING;
      }
      Long limit = convergence.nextDowntimeLimit();
      if (limit != null) raiseDowntimeLimit(limit);
      Map<String, Object> throttle = convergence.nextThrottle(now);
      if (throttle != null) steepenThrottle(throttle);
      if (convergence.shouldSwitchToPostcopy(now)) {
        return decidePostcopy() ? LivePhase.POSTCOPY : LivePhase.CANCELLING;
      }
      if (convergence.shouldGiveUp(now)) {
        record.reason = convergence.stuckReason();
        return LivePhase.CANCELLING;
      }
      s = nextStats(s);
      if (s == null) throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration of vm '"
          + record.vm + "' any more");
    }
  }

  /**
   * The source's stats one {@link #POLL} after {@code last}, or as soon as its phase changed while
   * it copies RAM, so a completed copy is seen at once (the caller's decisions keep the pace of
   * {@link #POLL}): the agent holds the request until its QEMU's event moves the phase. An agent
   * that cannot wait is asked every {@link #SWITCH_POLL} meanwhile. Null when the source has no
   * migration any more.
   */
  private MigrationStats nextStats(MigrationStats last) {
    if (last.phase() != OutgoingPhase.MIGRATING && last.phase() != OutgoingPhase.SWITCHOVER) {
      ctx.sleep(POLL);
      return watch.sourceStats();
    }
    AgentWatch.Waited waited = watch.sourceStatsOnChange(last, POLL);
    if (waited != null) return waited.stats();
    // counted, not timed: the runner's clock may be a test's that does not move
    long asks = POLL.toMillis() / SWITCH_POLL.toMillis();
    MigrationStats s = last;
    for (long i = 0; i < asks; i++) {
      ctx.sleep(SWITCH_POLL);
      s = watch.sourceStats();
      if (s == null || s.phase() != last.phase()) return s;
    }
    return s;
  }

  /**
   * Decides on post-copy unless a cancel came first: both happen under the cancel flag's lock, and
   * the record says post-copy (then the phase {@link LivePhase#POSTCOPY} is recorded) before the
   * agent is asked, so a cancel after this is refused.
   */
  private boolean decidePostcopy() {
    synchronized (cancel) {
      if (cancel.get()) return false;
      record.postcopy = true;
      record.escalations.add("post-copy after " + record.passes + " passes (--postcopy " + options.postcopy() + ")");
      ctx.progress(record, LivePhase.MIGRATING.text());
    }
    LOG.info("migration {}: switching vm {} to post-copy ({}, policy {})", record.id, record.vm,
        convergence.progressText(), options.postcopy());
    return true;
  }

  // ---- POSTCOPY

  /**
   * Post-copy, recorded before the source is asked to switch: the target runs the guest and pulls
   * the pages it misses from the source. Neither side is ever given up here: an unreachable agent
   * is waited for (the runner retries), a broken link is recovered ({@link PostcopyLink}); only a
   * QEMU that is gone, which takes pages no one else has with it, ends the migration as lost.
   */
  LivePhase postcopy() {
    record.postcopy = true;
    while (true) {
      MigrationStats s = watch.sourceStats();
      if (s == null || !record.id.equals(s.migrationId())) {
        throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration " + record.id
            + " of vm '" + record.vm + "' any more");
      }
      watch.observe(s, LivePhase.POSTCOPY);
      if (!postcopySent && s.phase() == OutgoingPhase.MIGRATING && (s.status() == null || !s.status().postcopy())) {
        switchToPostcopy();
        ctx.sleep(POLL);
        continue;
      }
      if (!targetRunning && s.status() == QemuMigrationStatus.POSTCOPY_ACTIVE) targetRunning = resumeTargetDuringPostcopy();
      try {
        link.watch(s, ctx.clock().instant());
      } catch (PostcopyLink.TargetLost e) {
        record.reason = e.getMessage();
        return LivePhase.LOST;
      }
      switch (s.phase()) {
        case COMPLETED, HANDED_OVER -> {
          return LivePhase.RESUMING_TARGET;
        }
        case FAILED, CANCELLED -> {
          record.reason = "post-copy broke on host '" + record.source + "': " + s.error() + "; the guest ran on host '"
              + record.target + "' from the switch on and its missing pages are lost with the stream; neither host was"
              + " resumed or cleaned up on a guess: the source qemu keeps the older paused copy for inspection";
          return LivePhase.LOST;
        }
        default -> { }
      }
      ctx.sleep(POLL);
    }
  }

  /** {@code outgoing/postcopy}; the agent persists the switch before it sends {@code migrate-start-postcopy}. */
  private void switchToPostcopy() {
    if (postcopyAskedAt == null) postcopyAskedAt = ctx.clock().instant();
    ctx.retrying(record.source, "switch to post-copy",
        () -> ctx.agent(record.source).postcopy(record.vm));
    postcopySent = true;
  }

  /** Passes stopped shrinking what is left: the limit becomes what the measured remainder needs, within the allowance. */
  private void raiseDowntimeLimit(long limitMs) {
    LOG.info("migration {}: vm {} no longer converging below the downtime limit ({}); limit raised to {} ms of {} ms allowed",
        record.id, record.vm, convergence.progressText(), limitMs, options.maxDowntimeMs());
    try {
      ctx.agent(record.source).tuneOutgoing(record.vm, new MigrationTuning(Map.of("downtime-limit", limitMs)));
      record.escalations.add("downtime limit raised to " + limitMs + " ms after " + record.passes + " passes (what the"
          + " measured remainder needs; " + options.maxDowntimeMs() + " ms allowed)");
    } catch (ControllerException e) {
      // completed or cancelled meanwhile: the next stats say which; a source that does not answer is retried by the stall watch
      LOG.info("migration {}: downtime limit not raised: {}", record.id, e.getMessage());
    }
  }

  /** An escalation rung mid-flight: QEMU takes throttle parameters while migrating (not capabilities). */
  private void steepenThrottle(Map<String, Object> throttle) {
    LOG.info("migration {}: pre-copy of vm {} stuck ({}); auto-converge steeper: {}", record.id, record.vm,
        convergence.progressText(), throttle);
    ctx.retrying(record.source, "auto-converge step",
        () -> ctx.agent(record.source).tuneOutgoing(record.vm, new MigrationTuning(throttle)));
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

  /** Waits for QEMU's {@code completed}: the source paused for the last pass and the target holds the guest. */
  LivePhase awaitCompleted() {
    MigrationStats s = watch.sourceStats();
    while (true) {
      if (s == null || !record.id.equals(s.migrationId())) {
        throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration " + record.id
            + " of vm '" + record.vm + "' any more");
      }
      watch.observe(s, LivePhase.SWITCHOVER);
      switch (s.phase()) {
        case COMPLETED, HANDED_OVER -> {
          return LivePhase.RESUMING_TARGET;
        }
        case FAILED -> {
          record.reason = "switchover failed on host '" + record.source + "': " + s.error();
          return LivePhase.CANCELLING;
        }
        case CANCELLED, RECLAIMED -> {
          if (!cancel.get()) record.reason = "host '" + record.source + "' cancelled the migration: " + s.error();
          return LivePhase.CANCELLING;
        }
        default -> { }
      }
      if (mustRollBack(ctx.clock().instant(), LivePhase.SWITCHOVER)) return LivePhase.CANCELLING;
      // the source is paused here: the guest waits for its completion, which the agent answers at once
      AgentWatch.Waited waited = watch.sourceStatsOnChange(s, POLL);
      if (waited == null) {
        ctx.sleep(SWITCH_POLL);
        s = watch.sourceStats();
      } else {
        s = waited.stats();
      }
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
      IncomingStatus st = ctx.agent(record.target).within(TargetPreparation.PREPARE_TIMEOUT).finishIncoming(record.vm);
      record.announced(st);
      if (postcopyAskedAt != null) postcopyPauseMs = Duration.between(postcopyAskedAt, ctx.clock().instant()).toMillis();
      LOG.info("migration {}: vm {} runs on host {} during post-copy ({})", record.id, record.vm, record.target,
          st == null || st.phase() == null ? "?" : st.phase().wire());
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
