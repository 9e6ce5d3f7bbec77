package dev.ferry.controller.migration;

import dev.ferry.api.AgentDisk;
import dev.ferry.api.AgentVmDefinition;
import dev.ferry.api.AgentVmStatus;
import dev.ferry.api.CopyStorageDisk;
import dev.ferry.api.IncomingReady;
import dev.ferry.api.IncomingRequest;
import dev.ferry.api.IncomingStatus;
import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationStats;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationTuning;
import dev.ferry.api.MirrorProgress;
import dev.ferry.api.NbdTarget;
import dev.ferry.api.OutgoingRequest;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs one live migration through its {@link LivePhase}s, driving the target agent
 * ({@code incoming}) and the source agent ({@code outgoing}). Each phase is recorded before its
 * side effect and every step observes before it acts (the agents answer a repeated request with
 * what they already did), so the runner can start again in any phase after a controller crash.
 *
 * <p>Before {@link LivePhase#RESUMING_TARGET} any failure, a cancel, a timeout or a stuck
 * pre-copy rolls back: the source cancels (its guest never stopped running for long) and the
 * target's QEMU is deleted. Once post-copy started the target holds the newest pages and a cancel
 * is refused. From the target's resume on, the runner rolls forward: the owner in the store
 * changes to the target in one update (exactly one owner at every moment), then the source QEMU quits.
 */
final class LiveMigration implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(LiveMigration.class);
  static final Duration POLL = Duration.ofMillis(250);
  static final Duration PUBLISH_EVERY = Duration.ofMillis(500);
  static final Duration TARGET_CHECK_EVERY = Duration.ofSeconds(1);
  /** the target agent may be silent this long before the migration rolls back */
  static final Duration TARGET_SILENCE = Duration.ofSeconds(15);
  /** creating images and starting a paused QEMU on the target takes longer than an ordinary call */
  static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(60);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final LiveOptions options;
  private final AtomicBoolean cancel;
  /** post-copy only: the target guest was resumed while pages still arrive */
  private boolean targetRunning;
  private final CompletableFuture<Void> prepared;
  private final boolean rollBackFirst;
  private LivePhase phase;
  private final Convergence convergence;
  private final Progress progress = new Progress();
  private final PostcopyLink link;
  private IncomingReady ready;
  private MigrationStats last;
  private Instant lastPublished = Instant.EPOCH;
  private Instant lastTargetCheck = Instant.EPOCH;
  private Instant targetSilentSince;
  /** post-copy: when the switch was asked for (the source stops at once), and when the target ran */
  private Instant postcopyAskedAt;
  private Long postcopyPauseMs;

  /**
   * @param prepared      completed once the target is ready or the runner ended; completed
   *                      exceptionally with the target agent's refusal, for the API to relay
   * @param rollBackFirst a recovered migration that must be rolled back before anything else
   */
  LiveMigration(MigrationContext ctx, MigrationRecord record, LiveMigrationRequest request, LivePhase phase,
      AtomicBoolean cancel, CompletableFuture<Void> prepared, boolean rollBackFirst) {
    this.ctx = ctx;
    this.record = record;
    this.options = LiveOptions.validate(request);
    this.phase = phase;
    this.cancel = cancel;
    this.prepared = prepared;
    this.rollBackFirst = rollBackFirst;
    this.convergence = new Convergence(options);
    this.link = new PostcopyLink(ctx, record);
  }

  @Override
  public void run() {
    MDC.put("migration", record.id);
    MDC.put("vm", record.vm);
    try {
      if (rollBackFirst) {
        if (!cancel.get()) {
          record.reason = "the controller restarted in phase " + phase.text()
              + ", before the point of no return: rolled back; the vm runs on host '" + record.source + "'";
        }
        advance(LivePhase.CANCELLING);
      }
      loop();
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        // the controller is stopping: leave the persisted phase to the next controller's recovery
        LOG.info("migration {} of vm {}: controller stopping, left in phase {} for recovery", record.id, record.vm,
            phase.text());
        return;
      }
      LOG.error("migration {} of vm {}: runner failed in phase {}", record.id, record.vm, phase.text(), e);
      finishAfterError(e);
    } finally {
      prepared.complete(null);
      MDC.clear();
    }
  }

  private void loop() {
    while (true) {
      switch (phase) {
        case PENDING -> advance(cancel.get() ? LivePhase.CANCELLING : LivePhase.PREPARING_TARGET);
        case PREPARING_TARGET -> {
          if (cancel.get()) {
            advance(LivePhase.CANCELLING);
            continue;
          }
          try {
            ready = prepareTarget();
          } catch (ControllerException e) {
            if (e.kind() != Kind.AGENT_REJECTED) throw e;
            record.reason = "host '" + record.target + "' refused to receive vm '" + record.vm + "': " + e.getMessage();
            advance(LivePhase.CANCELLING);
            prepared.completeExceptionally(e);
            continue;
          }
          prepared.complete(null);
          advance(cancel.get() ? LivePhase.CANCELLING : LivePhase.MIGRATING);
        }
        case MIGRATING -> advance(migrate());
        case SWITCHOVER -> advance(awaitCompleted());
        case RESUMING_TARGET -> {
          resumeTarget();
          advance(LivePhase.TRANSFERRING);
        }
        case TRANSFERRING -> {
          transfer();
          finish(LivePhase.DONE, MigrationStatus.SUCCEEDED);
          return;
        }
        case CANCELLING -> {
          if (rollBack()) {
            finish(LivePhase.ROLLED_BACK, record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED);
            return;
          }
          // the source completed before the cancel reached it: its guest is paused for good, the
          // target holds the whole state; the only way on is forward (the one backward-looking edge)
          advance(LivePhase.RESUMING_TARGET);
        }
        case DONE, ROLLED_BACK -> {
          return;
        }
      }
    }
  }

  // ---- PREPARING_TARGET

  /** {@code PUT incoming} on the target with the source's device model; the agent answers a repeat with the same ports. */
  private IncomingReady prepareTarget() {
    AgentVmStatus live = ctx.retrying(record.source, "status of vm " + record.vm,
        () -> ctx.agents().get(ctx.host(record.source), vmPath(), AgentVmStatus.class));
    if (live.machineType() == null) {
      throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' reports no machine type for vm '"
          + record.vm + "'; is it still running?");
    }
    var body = new IncomingRequest(record.id, definition(live), live.memoryGivenBytes(), options.targetCapabilities(),
        options.targetParameters(), copies());
    IncomingReady r = ctx.retrying(record.target, "prepare of the target", () -> ctx.agents().call(ctx.host(record.target),
        "PUT", vmPath() + "/incoming", body, IncomingReady.class, PREPARE_TIMEOUT));
    LOG.info("migration {}: host {} listens for vm {} at {}{}", record.id, record.target, record.vm, r.migrationUri(),
        r.nbdPort() == null ? "" : ", nbd " + r.nbdHost() + ":" + r.nbdPort());
    return r;
  }

  /** The VM as the source runs it: its spec, its disks as stored, the source's resolved machine type. */
  private AgentVmDefinition definition(AgentVmStatus live) {
    VmRow vm = ctx.store().vms().find(record.vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
        "vm '" + record.vm + "' is not in the store any more"));
    VmCreateRequest spec;
    try {
      spec = Json.mapper().readValue(vm.spec(), VmCreateRequest.class);
    } catch (IOException e) {
      throw new ControllerException(Kind.INTERNAL, "vm '" + vm.name() + "' has an unreadable spec", e);
    }
    List<AgentDisk> disks = ctx.store().vms().disks(vm.name()).stream()
        .map(d -> new AgentDisk(d.id(), d.path(), d.format())).toList();
    return new AgentVmDefinition(vm.name(), vm.cpus(), vm.memoryRequestedBytes(), live.machineType(), vm.cpuModel(),
        spec.kernel(), spec.initrd(), spec.append(), disks);
  }

  private List<CopyStorageDisk> copies() {
    List<CopyStorageDisk> out = new ArrayList<>();
    for (String id : record.disks) {
      DiskRow d = ctx.disk(record.vm, id);
      out.add(new CopyStorageDisk(id, targetPool(d), d.format(), d.sizeBytes()));
    }
    return out;
  }

  private String targetPool(DiskRow d) {
    return options.targetPool() != null ? options.targetPool() : d.pool();
  }

  // ---- MIGRATING

  /** Starts the source (unless it already runs this migration) and watches it; the next phase. */
  private LivePhase migrate() {
    MigrationStats s = sourceStats();
    if (s == null || !record.id.equals(s.migrationId())) {
      if (ready == null) ready = prepareTarget();
      AgentVmStatus live = ctx.agents().get(ctx.host(record.source), vmPath(), AgentVmStatus.class);
      NbdTarget nbd = ready.nbdPort() == null ? null : new NbdTarget(ready.nbdHost(), ready.nbdPort(), ready.exports());
      var body = new OutgoingRequest(record.id, ready.migrationUri(), options.sourceCapabilities(),
          options.sourceParameters(live.memoryGivenBytes()), nbd);
      s = ctx.retrying(record.source, "start of the outgoing migration",
          () -> ctx.agents().post(ctx.host(record.source), vmPath() + "/outgoing", body, MigrationStats.class));
      LOG.info("migration {}: host {} sends vm {} to {} (capabilities {}, parameters {})", record.id, record.source,
          record.vm, ready.migrationUri(), body.capabilities(), body.parameters());
      if (record.escalations.isEmpty()) record.escalations.addAll(options.firstRungs());
    }
    while (true) {
      observe(s);
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
      if (cancel.get()) return LivePhase.CANCELLING;
      String gone = targetProblem(now);
      if (gone != null) {
        record.reason = gone + "; rolled back, the vm keeps running on host '" + record.source + "'";
        return LivePhase.CANCELLING;
      }
      if (timedOut(now)) return LivePhase.CANCELLING;
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
      s = sourceStats();
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
      ctx.progress(record, phase.text());
    }
    LOG.info("migration {}: switching vm {} to post-copy ({}, policy {})", record.id, record.vm,
        convergence.progressText(), options.postcopy());
    postcopyAskedAt = ctx.clock().instant();
    ctx.retrying(record.source, "switch to post-copy",
        () -> ctx.agents().post(ctx.host(record.source), vmPath() + "/outgoing/postcopy", null, MigrationStats.class));
    return true;
  }

  /** An escalation rung mid-flight: QEMU takes throttle parameters while migrating (not capabilities). */
  private void steepenThrottle(Map<String, Object> throttle) {
    LOG.info("migration {}: pre-copy of vm {} stuck ({}); auto-converge steeper: {}", record.id, record.vm,
        convergence.progressText(), throttle);
    ctx.retrying(record.source, "auto-converge step", () -> ctx.agents().post(ctx.host(record.source),
        vmPath() + "/outgoing/parameters", new MigrationTuning(throttle), MigrationStats.class));
    record.escalations.add("auto-converge throttle step " + throttle.get("cpu-throttle-increment") + " % after "
        + record.passes + " passes");
  }

  private boolean timedOut(Instant now) {
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
  private LivePhase awaitCompleted() {
    while (true) {
      MigrationStats s = sourceStats();
      if (s == null || !record.id.equals(s.migrationId())) {
        throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' has no outgoing migration " + record.id
            + " of vm '" + record.vm + "' any more");
      }
      observe(s);
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
      Instant now = ctx.clock().instant();
      if (!record.postcopy) {
        if (cancel.get()) return LivePhase.CANCELLING;
        String gone = targetProblem(now);
        if (gone != null) {
          record.reason = gone + "; rolled back, the vm keeps running on host '" + record.source + "'";
          return LivePhase.CANCELLING;
        }
        if (timedOut(now)) return LivePhase.CANCELLING;
      }
      ctx.sleep(POLL);
    }
  }

  /**
   * Post-copy hands the guest's CPU state to the target at the switch: the source can no longer
   * run it, so the target must run it now, fetching pages on demand. Left paused (-S) until the
   * copy completed, the guest ran nowhere for the whole post-copy phase (1.2–2 s of downtime was
   * measured that way against a 50 ms limit).
   */
  private boolean resumeTargetDuringPostcopy() {
    try {
      IncomingStatus st = ctx.agents().call(ctx.host(record.target), "POST", vmPath() + "/incoming/finish", null,
          IncomingStatus.class, PREPARE_TIMEOUT);
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

  // ---- RESUMING_TARGET, TRANSFERRING

  private void resumeTarget() {
    IncomingStatus st = targetStatus();
    if (st != null && "finished".equals(st.phase())) return;
    // point of no return: the target's guest runs from here; the source keeps a paused copy until complete
    ctx.retrying(record.target, "resume of the target", () -> ctx.agents().call(ctx.host(record.target), "POST",
        vmPath() + "/incoming/finish", null, IncomingStatus.class, PREPARE_TIMEOUT));
    LOG.info("migration {}: vm {} resumed on host {}", record.id, record.vm, record.target);
  }

  private void transfer() {
    VmRow vm = ctx.store().vms().find(record.vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
        "vm '" + record.vm + "' is not in the store any more"));
    if (!vm.host().equals(record.target)) {
      List<DiskRow> moved = new ArrayList<>();
      for (String id : record.disks) {
        DiskRow d = ctx.disk(record.vm, id);
        String pool = targetPool(d);
        String dir = ctx.store().pools().find(pool, record.target).map(PoolView::path).orElseThrow(() ->
            new ControllerException(Kind.INTERNAL, "pool '" + pool + "' vanished from host '" + record.target + "'"));
        moved.add(new DiskRow(d.vm(), d.id(), pool, d.format(), dir + "/" + record.vm + "-" + id + "." + d.format(),
            d.sizeBytes(), true));
      }
      // vm is now owned by the target host: one update, never two owners, never none
      ctx.store().vms().transfer(record.vm, record.target, moved);
      LOG.info("migration {}: vm {} now belongs to host {}", record.id, record.vm, record.target);
    }
    boolean copied = !record.disks.isEmpty();
    MigrationStats fin = ctx.retrying(record.source, "completion on the source", () -> ctx.agents().post(
        ctx.host(record.source), vmPath() + "/outgoing/complete?delete_source_images=" + copied, null, MigrationStats.class));
    if (fin != null && record.id.equals(fin.migrationId())) observe(fin);
    applyFinal();
  }

  /** The figures of the final record from the last stats: QEMU's downtime, or the observed pause when QEMU says 0. */
  private void applyFinal() {
    if (last == null) return;
    record.transferredBytes = Math.max(record.transferredBytes, last.ramTransferredBytes() + mirrored(last));
    // in post-copy the source's stop-to-completed spans the whole post-copy phase, while the guest
    // already ran on the target: the pause is from the switch to the target's resume
    record.observedPauseMs = postcopyPauseMs != null ? postcopyPauseMs : last.pauseMs();
    Long qemu = last.downtimeMs();
    record.downtimeMs = qemu != null && qemu > 0 ? qemu : record.observedPauseMs;
    record.passes = (int) last.passes();
  }

  // ---- CANCELLING

  /**
   * Source cancel, then the target deleted; each best-effort on its own. False when the source had
   * already completed: then its guest cannot resume and the migration must roll forward.
   */
  private boolean rollBack() {
    MigrationStats s = null;
    try {
      s = sourceStats();
    } catch (ControllerException e) {
      note("status of the source: " + e.getMessage());
    }
    boolean ours = s != null && record.id.equals(s.migrationId());
    if (ours && (s.phase().equals("completed") || s.phase().equals("handed_over"))) {
      note("the source had completed before the rollback reached it: rolled forward");
      return false;
    }
    if (ours && !s.phase().equals("cancelled") && !s.phase().equals("failed")) {
      try {
        ctx.retrying(record.source, "cancel on the source", () -> ctx.agents().post(ctx.host(record.source),
            vmPath() + "/outgoing/cancel", null, MigrationStats.class));
      } catch (ControllerException e) {
        MigrationStats again = quietSourceStats();
        if (again != null && record.id.equals(again.migrationId()) && again.phase().equals("completed")) {
          note("the source completed while being cancelled: rolled forward");
          return false;
        }
        note("cancel on host '" + record.source + "' failed: " + e.getMessage());
      }
    }
    try {
      ctx.retrying(record.target, "rollback of the target", () -> {
        ctx.agents().delete(ctx.host(record.target), vmPath() + "/incoming");
        return null;
      });
    } catch (ControllerException e) {
      if (!(e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404)) {
        note("deleting the target on host '" + record.target + "' failed, a paused qemu may be left there: " + e.getMessage());
      }
    }
    return true;
  }

  private void note(String text) {
    record.reason = record.reason == null ? text : record.reason + "; " + text;
    LOG.warn("migration {}: {}", record.id, text);
  }

  private void finishAfterError(RuntimeException e) {
    String why = e.getMessage() == null ? e.toString() : e.getMessage();
    try {
      if (phase == LivePhase.DONE || phase == LivePhase.ROLLED_BACK) return;
      // post-copy passed the point of no return at the switch: the target holds the newest pages
      if (phase.beforePointOfNoReturn() && !record.postcopy) {
        record.reason = record.reason == null ? why : record.reason + "; " + why;
        if (!rollBack()) note("the vm may be paused on host '" + record.source + "' with its state on host '"
            + record.target + "'; resolve by hand");
        finish(LivePhase.ROLLED_BACK, MigrationStatus.FAILED);
      } else {
        record.reason = why + " (in phase " + phase.text() + ", past the point of no return: the guest ran on host '"
            + record.target + "'; a controller restart retries the remaining steps)";
        record.end(MigrationStatus.FAILED, ctx.clock().instant());
        ctx.advance(record, phase.text(), phase.text());
        ctx.events().publish("migration.done", record.id, record.view());
      }
    } catch (RuntimeException again) {
      LOG.error("migration {}: cannot record the failure", record.id, again);
    }
  }

  // ---- observing

  private void observe(MigrationStats s) {
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
    record.dirtyRate = (double) s.dirtyRateBytesPerS();
    record.passes = (int) s.passes();
    record.diskBytesMirrored = Math.max(record.diskBytesMirrored, mirrored);
    double net = rate - s.dirtyRateBytesPerS();
    // pre-copy finishes only while the stream outruns the guest: no rate, no ETA
    record.etaMs = remaining == 0 ? Long.valueOf(0) : net > 1 ? Long.valueOf((long) (remaining / net * 1000)) : null;
    publishProgress(now);
  }

  private static long mirrored(MigrationStats s) {
    return s.mirrors() == null ? 0 : s.mirrors().stream().mapToLong(MirrorProgress::offset).sum();
  }

  /** Why the target cannot take the guest any more, or null; checked every {@link #TARGET_CHECK_EVERY}. */
  private String targetProblem(Instant now) {
    if (Duration.between(lastTargetCheck, now).compareTo(TARGET_CHECK_EVERY) < 0) return null;
    lastTargetCheck = now;
    IncomingStatus st;
    try {
      st = ctx.agents().get(ctx.host(record.target), vmPath() + "/incoming", IncomingStatus.class);
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
    if ("gone".equals(st.migrationStatus())) {
      return "the target qemu on host '" + record.target + "' is gone" + (st.error() == null ? "" : ": " + st.error());
    }
    if ("failed".equals(st.migrationStatus())) {
      return "the target qemu on host '" + record.target + "' failed to receive the migration"
          + (st.error() == null ? "" : ": " + st.error());
    }
    if ("rolled_back".equals(st.phase())) return "host '" + record.target + "' rolled the incoming migration back";
    return null;
  }

  /** The source's stats, or null when it has no outgoing migration of this VM. */
  private MigrationStats sourceStats() {
    try {
      return ctx.retrying(record.source, "status of the outgoing migration",
          () -> ctx.agents().get(ctx.host(record.source), vmPath() + "/outgoing", MigrationStats.class));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return null;
      throw e;
    }
  }

  private MigrationStats quietSourceStats() {
    try {
      return sourceStats();
    } catch (ControllerException e) {
      return null;
    }
  }

  private IncomingStatus targetStatus() {
    try {
      return ctx.retrying(record.target, "status of the incoming migration",
          () -> ctx.agents().get(ctx.host(record.target), vmPath() + "/incoming", IncomingStatus.class));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return null;
      throw e;
    }
  }

  private String vmPath() {
    return "/agent/vms/" + record.vm;
  }

  // ---- phases and events

  private void advance(LivePhase next) {
    LivePhase from = phase;
    record.phase = next.text();
    ctx.advance(record, from.text(), next.text());
    phase = next;
    LOG.info("migration {}: vm {} {} -> {} ({} ms since start)", record.id, record.vm, from.text(), next.text(),
        record.startedAt == null ? 0 : Duration.between(record.startedAt, ctx.clock().instant()).toMillis());
    ctx.events().publish("migration.phase", record.id, record.view());
  }

  private void finish(LivePhase end, MigrationStatus status) {
    if (status == MigrationStatus.SUCCEEDED) applyFinal();
    record.end(status, ctx.clock().instant());
    advance(end);
    LOG.info("migration {}: vm {} {} in {} ms{}", record.id, record.vm, status.name().toLowerCase(java.util.Locale.ROOT),
        record.view().totalMs(), record.reason == null ? "" : " (" + record.reason + ")");
    ctx.events().publish("migration.done", record.id, record.view());
  }

  private void publishProgress(Instant now) {
    if (Duration.between(lastPublished, now).compareTo(PUBLISH_EVERY) < 0) return;
    lastPublished = now;
    ctx.progress(record, phase.text());
    ctx.events().publish("migration.progress", record.id, record.view());
  }
}
