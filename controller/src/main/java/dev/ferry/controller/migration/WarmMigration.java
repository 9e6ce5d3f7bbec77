package dev.ferry.controller.migration;

import dev.ferry.api.Durations;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.VmState;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.WarmCopyRequest;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.api.agent.WarmPassCopy;
import dev.ferry.api.agent.WarmPassRequest;
import dev.ferry.api.agent.WarmSource;
import dev.ferry.api.agent.WarmSourceRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.DiskRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The steps of a warm migration's {@link WarmPhase}s, run by the {@link PhaseRunner}. The target
 * agent pulls every pass from the source QEMU's own NBD server (disk data never passes the
 * controller); between passes the controller predicts the cutover's downtime and decides, by the
 * request's {@code cutover} rule, when to begin it: power the guest off, run the final pass, hash
 * both copies, then hand the VM over (the point of no return) and start it on the target. Before
 * the hand-over a cancel or a failure leaves the VM running on the source.
 */
final class WarmMigration implements Runnable, PhaseRunner.Steps<WarmPhase> {

  private static final Logger LOG = LoggerFactory.getLogger(WarmMigration.class);
  static final Duration DEFAULT_SYNC_INTERVAL = Duration.ofSeconds(5);
  static final long DEFAULT_MAX_DOWNTIME_MS = 10_000;
  private static final Duration POLL = Duration.ofMillis(200);
  /** the final pass is polled often: the guest is down while it runs */
  private static final Duration FINAL_POLL = Duration.ofMillis(5);
  /** a final pass still running after this is a long one: polled every 20 ms, not 200 requests a second */
  private static final Duration FINAL_FAST_FOR = Duration.ofMillis(500);
  /** how often one pass is run before its failure rolls the migration back */
  static final int PASS_TRIES = 3;
  private static final Duration PUBLISH_EVERY = Duration.ofMillis(500);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final WarmMigrationRequest request;
  private final AtomicBoolean cancel;
  private final AtomicBoolean cutoverNow;
  private final boolean restarted;
  private final PhaseRunner<WarmPhase> runner;
  private final Handover cutover;
  private final WarmCutover steps;
  private final List<WarmPrediction.Pass> passes = new ArrayList<>();
  private Instant lastPublished = Instant.EPOCH;
  /** when the guest stopped being available: the shutdown request */
  private Instant downFrom;
  /** when the final pass's copy ended (the rest of the cutover is measured from there); null after a restart */
  private Instant finalPassEnd;
  /** this VM's figures from earlier migrations, read once */
  private WarmPrediction.Earlier earlier;
  /** the VM moved but did not start on the target (the reason says why): the migration ends failed */
  private boolean startFailed;
  /** the last pass this runner asked the target to run, -1 before any */
  private int askedPass = -1;
  /** this runner made the hand-over (not one recovered after it) */
  private boolean handedOver;
  /** both hosts' hashes as fetched right after the final pass, for the verification that follows */
  private WarmCutover.Hashes fetched;

  WarmMigration(MigrationContext ctx, MigrationRecord record, WarmMigrationRequest request, WarmPhase phase,
      AtomicBoolean cancel, AtomicBoolean cutoverNow, boolean restarted) {
    this.ctx = ctx;
    this.record = record;
    this.request = request;
    this.cancel = cancel;
    this.cutoverNow = cutoverNow;
    this.restarted = restarted;
    this.runner = new PhaseRunner<>(ctx, record, phase, this);
    this.cutover = new Handover(ctx, record, request.targetPool(), restarted, runner::note);
    this.steps = new WarmCutover(ctx, record, request, cutover, runner::note);
    // a runner recovered after the shutdown request counts from that request, as the first one did
    this.downFrom = record.shutdownRequestedAt != null ? record.shutdownRequestedAt : record.startedAt;
  }

  @Override
  public void run() {
    MDC.put("migration", record.id);
    MDC.put("vm", record.vm);
    try {
      if (restarted) runner.recover();
      else runner.run();
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        LOG.info("migration {} of vm {}: controller stopping, left in phase {} for recovery", record.id, record.vm,
            runner.phase().text());
        return;
      }
      LOG.error("migration {} of vm {}: runner stopped in phase {}", record.id, record.vm, runner.phase().text(), e);
    } finally {
      MDC.clear();
    }
  }

  @Override
  public WarmPhase act(WarmPhase phase) {
    return switch (phase) {
      case PENDING -> {
        AgentVmStatus st = ctx.retrying(record.source, "status of vm " + record.vm,
            () -> ctx.agent(record.source).vm(record.vm));
        if (st.state() != VmState.RUNNING) {
          throw new ControllerException(Kind.CONFLICT, "vm '" + record.vm + "' is " + lower(st.state())
              + "; only a running vm migrates warm (a stopped one migrates cold)");
        }
        yield WarmPhase.PREPARING;
      }
      case PREPARING -> {
        prepare();
        yield cancel.get() ? WarmPhase.CANCELLING : WarmPhase.COPYING;
      }
      case COPYING -> passesUntilCutover();
      case SHUTTING_DOWN -> {
        WarmPhase next = steps.shutDown(runner.phase().text(), at -> downFrom = at);
        yield next == WarmPhase.FINAL_PASS && cancel.get() ? WarmPhase.CANCELLING : next;
      }
      case FINAL_PASS -> {
        steps.askSourceHashesEarly();
        if (!runPass()) yield WarmPhase.CANCELLING;
        finalPassEnd = ctx.clock().instant();
        fetched = steps.attachWhileSourceHashes();
        yield cancel.get() ? WarmPhase.CANCELLING : WarmPhase.VERIFYING;
      }
      case VERIFYING -> {
        Instant v0 = ctx.clock().instant();
        // the hashes fetched with the hand-over, where they came; a restarted runner asks for both
        WarmCutover.Hashes had = fetched != null ? fetched : new WarmCutover.Hashes(null, null);
        fetched = null;
        String mismatch = cutover.compareHashes(() -> had.source() != null ? had.source() : steps.sourceHashes(),
            () -> had.target() != null ? had.target() : ctx.agent(record.target).within(Handover.HASH_TIMEOUT)
                .warmCopyHashes(record.id));
        if (mismatch != null) {
          record.verified = false;
          runner.note(mismatch);
          yield WarmPhase.CANCELLING;
        }
        record.verified = true;
        record.verifyMs = Duration.between(v0, ctx.clock().instant()).toMillis();
        yield cancel.get() ? WarmPhase.CANCELLING : WarmPhase.DEFINING;
      }
      case DEFINING -> {
        WarmCopyStatus s = ctx.retrying(record.target, "copy status",
            () -> ctx.agent(record.target).warmCopyStatus(record.id));
        // vm is now owned by the target host (inside: one transaction, never two owners, never none)
        cutover.defineAndTransfer(s.disks());
        handedOver = true;
        yield WarmPhase.STARTING;
      }
      case STARTING -> {
        if (!TargetStart.start(ctx, record, runner::note, handedOver)) {
          // the VM is the target's and stays there stopped: the source lets go as after a start
          release();
          startFailed = true;
          yield WarmPhase.DONE;
        }
        Instant running = ctx.clock().instant();
        record.downtimeMs = Duration.between(downFrom, running).toMillis();
        if (finalPassEnd != null && record.verifyMs != null) {
          record.startMs = Math.max(0, Duration.between(finalPassEnd, running).toMillis() - record.verifyMs);
        }
        LOG.info("migration {}: vm {} runs on host {}; downtime {} ms (predicted {} ms)", record.id, record.vm,
            record.target, record.downtimeMs, record.predictedDowntimeMs);
        yield WarmPhase.RELEASING;
      }
      case RELEASING -> {
        release();
        yield WarmPhase.DONE;
      }
      case CANCELLING -> rollBackSteps();
      case DONE, ROLLED_BACK -> phase;
    };
  }

  @Override
  public WarmPhase rollBack() {
    return WarmPhase.CANCELLING;
  }

  @Override
  public MigrationStatus end(WarmPhase last) {
    return switch (last) {
      case DONE -> startFailed ? MigrationStatus.FAILED : MigrationStatus.SUCCEEDED;
      case ROLLED_BACK -> record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
      case PENDING, PREPARING, COPYING, SHUTTING_DOWN, FINAL_PASS, VERIFYING, DEFINING, STARTING, RELEASING,
          CANCELLING -> throw new IllegalArgumentException("phase " + last.text() + " is not final");
    };
  }

  /** The target's images, the source's NBD server and first bitmap; both idempotent per migration. */
  private void prepare() {
    WarmSource src = ctx.retrying(record.source, "warm source of vm " + record.vm, () -> ctx.agent(record.source)
        .within(Duration.ofSeconds(60)).warmSource(record.vm, new WarmSourceRequest(record.id, record.target)));
    List<ColdCopyRequest.Disk> disks = new ArrayList<>();
    for (String id : record.disks) {
      DiskRow d = ctx.disk(record.vm, id);
      disks.add(new ColdCopyRequest.Disk(id, cutover.targetPool(d), request.format() != null ? request.format()
          : d.format()));
    }
    long bandwidth = request.bandwidthMibS() == null ? 0 : (long) (request.bandwidthMibS() * 1024 * 1024);
    var body = new WarmCopyRequest(record.vm, src.export(), disks, bandwidth);
    ctx.retrying(record.target, "images on host " + record.target,
        () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).warmCopy(record.id, body));
    record.totalBytes = src.export().disks().stream().mapToLong(d -> d.virtualSize()).sum();
  }

  /** Passes while the guest runs, until the cutover rule says go (or a cancel). */
  private WarmPhase passesUntilCutover() {
    while (true) {
      if (!runPass()) return WarmPhase.CANCELLING;
      Instant waitUntil = ctx.clock().instant().plus(syncInterval());
      while (true) {
        predict();
        publishProgress(true);
        if (cancel.get()) return WarmPhase.CANCELLING;
        String why = cutoverReason();
        if (why != null) {
          record.cutoverReason = why + " after " + record.passes + (record.passes == 1 ? " pass" : " passes");
          LOG.info("migration {}: cutover after {} passes ({}); predicted downtime {} ms, {} bytes dirty", record.id,
              record.passes, why, record.predictedDowntimeMs, record.dirtyBytes);
          return WarmPhase.SHUTTING_DOWN;
        }
        if (!ctx.clock().instant().isBefore(waitUntil)) break;
        ctx.sleep(POLL);
      }
    }
  }

  /** Null while the passes go on; else why the cutover begins now. */
  private String cutoverReason() {
    String rule = request.cutover() == null ? "manual" : request.cutover();
    if (cutoverNow.get()) return "asked for";
    if (rule.equals("auto")) {
      long max = request.maxDowntimeMs() == null ? DEFAULT_MAX_DOWNTIME_MS : request.maxDowntimeMs();
      return record.predictedDowntimeMs != null && record.predictedDowntimeMs <= max
          ? "predicted downtime " + record.predictedDowntimeMs + " ms is within " + max + " ms" : null;
    }
    if (rule.startsWith("at:")) {
      Instant at = Instant.parse(rule.substring(3));
      return ctx.clock().instant().isBefore(at) ? null : "the time " + at + " came";
    }
    return null;
  }

  /**
   * Runs pass {@code record.passes} until it is copied, at most {@link #PASS_TRIES} times; false
   * when cancelled. A failed pass is run again rather than rolled back at once: the source keeps
   * the pass's bitmap until the next pass is prepared, so a second run copies the same ranges
   * afresh. That is how a target agent restarted mid-pass (it fails the pass from its record) or
   * a link cut for a moment resumes the passes instead of starting the migration over.
   */
  private boolean runPass() {
    for (int attempt = 1; ; attempt++) {
      try {
        return runPassOnce();
      } catch (PassFailed e) {
        requireSourceQemu(e);
        String what = "pass " + e.pass + " to host '" + record.target + "' failed";
        if (attempt >= PASS_TRIES) {
          throw new ControllerException(Kind.CONFLICT, what + (PASS_TRIES > 1 ? " " + PASS_TRIES + " times" : "")
              + ": " + e.getMessage());
        }
        LOG.warn("migration {}: {} ({}); running it again, try {} of {}", record.id, what, e.getMessage(), attempt + 1,
            PASS_TRIES);
        runner.note(what + " (" + e.getMessage() + ") and was run again");
        ctx.sleep(POLL);
      }
    }
  }

  /**
   * A pass that failed because the source's QEMU died (its NBD server with it) is not run again:
   * the VM crashed on the source, where the rollback leaves it.
   */
  private void requireSourceQemu(PassFailed e) {
    AgentVmStatus st = ctx.retrying(record.source, "status of vm " + record.vm,
        () -> ctx.agent(record.source).vm(record.vm));
    if (st.state() == VmState.CRASHED) {
      throw new ControllerException(Kind.CONFLICT, "the QEMU of vm '" + record.vm + "' on host '" + record.source
          + "' died during pass " + e.pass + " (the target read: " + e.getMessage() + ")");
    }
  }

  /** The target reported the pass failed: the error is the agent's. */
  private static final class PassFailed extends RuntimeException {
    final int pass;

    PassFailed(int pass, String error) {
      super(error, null, false, false);
      this.pass = pass;
    }
  }

  /**
   * Runs pass {@code record.passes} on both hosts once and follows it; false when cancelled. The
   * source rotates its bitmaps before the target reads, and a pass already done on the target
   * (a restart) is not run again.
   */
  private boolean runPassOnce() {
    int n = record.passes;
    // a pass's time as the cutover pays it: from the source's bitmap rotation to the controller seeing it copied
    Instant t0 = ctx.clock().instant();
    WarmSource prepared = runner.phase() == WarmPhase.FINAL_PASS ? steps.takePreparedFinalPass(n) : null;
    WarmSource src = prepared != null ? prepared : ctx.retrying(record.source, "pass " + n + " on the source",
        () -> ctx.agent(record.source).within(Duration.ofSeconds(60)).warmSourcePass(record.vm,
            new WarmPassRequest(record.id, n)));
    // only a pass this runner may have begun before (a retry, or any pass of a restarted runner's
    // first) can be under way; asking the target first costs every other pass a round trip, the final one's the guest's
    boolean under = false;
    WarmCopyStatus s = null;
    if (n == askedPass || (restarted && askedPass < 0)) {
      s = ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target).warmCopyStatus(record.id));
      under = s.pass() == n && (s.state().equals(WarmCopyStatus.COPYING) || s.state().equals(WarmCopyStatus.COPIED));
    }
    askedPass = n;
    if (!under) {
      s = ctx.retrying(record.target, "pass " + n + " on the target", () -> ctx.agent(record.target)
          .within(Duration.ofSeconds(60)).warmCopyPass(record.id, new WarmPassCopy(n, src.export(), src.bitmap(),
              runner.phase() == WarmPhase.FINAL_PASS)));
    }
    long startedMs = Duration.between(t0, ctx.clock().instant()).toMillis();
    while (true) {
      record.copiedBytes = s.copiedBytes();
      record.skippedBytes = s.skippedBytes();
      record.transferredBytes = s.copiedBytes();
      record.remainingBytes = Math.max(0, s.passPlannedBytes() - s.passCopiedBytes());
      publishProgress(false);
      switch (s.state()) {
        case WarmCopyStatus.COPIED -> {
          long ms = passMs(s, under, startedMs, Duration.between(t0, ctx.clock().instant()).toMillis());
          passes.add(new WarmPrediction.Pass(s.passCopiedBytes(), Math.max(1, ms)));
          record.passes = n + 1;
          record.remainingBytes = 0;
          LOG.info("migration {}: pass {} copied {} bytes in {} ms", record.id, n, s.passCopiedBytes(), ms);
          ctx.progress(record, runner.phase().text());
          return true;
        }
        case WarmCopyStatus.FAILED -> throw new PassFailed(n, s.error());
        case WarmCopyStatus.CANCELLED -> {
          return false;
        }
        default -> { }
      }
      if (cancel.get()) return false;
      boolean fast = Duration.between(t0, ctx.clock().instant()).compareTo(FINAL_FAST_FOR) < 0;
      ctx.sleep(runner.phase() != WarmPhase.FINAL_PASS ? POLL : fast ? FINAL_POLL : FINAL_POLL.multipliedBy(4));
      s = ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target).warmCopyStatus(record.id));
    }
  }

  /**
   * A pass's time as the final pass would cost the cutover. The controller sees a pass end only at
   * its next poll, every {@link #POLL} for a pass while the guest runs but every {@link #FINAL_POLL}
   * for the final one, so where the target reports its own figure the pass counts as its start
   * (source rotation and the target taking it up), that figure, and half a final poll. Measured
   * before: passes of 39-81 ms on the target seen as 262-270 ms, against a final pass of 98 ms,
   * which made every prediction ~150 ms long.
   */
  static long passMs(WarmCopyStatus s, boolean resumed, long startedMs, long seenMs) {
    if (s.passMs() == null) return seenMs;
    // a pass resumed after a restart began before this controller's clock: the target's figure alone
    if (resumed) return s.passMs();
    return Math.min(seenMs, startedMs + s.passMs() + FINAL_POLL.toMillis() / 2);
  }

  /** The source's dirty count now, and the downtime a cutover now would have. */
  private void predict() {
    WarmSource st = ctx.retrying(record.source, "warm source status",
        () -> ctx.agent(record.source).warmSourceStatus(record.vm));
    record.dirtyBytes = st.dirtyBytes();
    if (earlier == null) earlier = cutover.earlier();
    var p = new WarmPrediction(st.dirtyBytes(), passes, earlier);
    record.predictedDowntimeMs = p.downtimeMs();
    record.throughput = p.throughput();
  }

  /**
   * Past the point of no return: the source's QEMU (its guest off since the cutover) quits, the
   * source's disks are deleted, the target forgets its copy record.
   */
  private void release() {
    steps.finishSource();
    cutover.releaseSource(false);
    ctx.retrying(record.target, "forget the copy", () -> ctx.agent(record.target).forgetWarmCopy(record.id));
  }

  /** Before the point of no return: the target's copy removed, the source as it was (the guest running). */
  private WarmPhase rollBackSteps() {
    if (cutover.ownedByTarget()) {
      runner.note("the cancel came after the ownership change; the migration rolled forward");
      return WarmPhase.RELEASING;
    }
    cutover.removeTargetDefinition();
    WarmCopyStatus c = ctx.retrying(record.target, "removal of the copy",
        () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).cancelWarmCopy(record.id));
    record.copiedBytes = Math.max(record.copiedBytes, c.copiedBytes());
    ctx.retrying(record.source, "cancel of the warm source", () -> {
      ctx.agent(record.source).within(Duration.ofSeconds(60)).cancelWarmSource(record.vm);
      return null;
    });
    // a guest this migration powered off whose QEMU quit after the final pass boots again where it was
    AgentVmStatus st = ctx.retrying(record.source, "status of vm " + record.vm,
        () -> ctx.agent(record.source).vm(record.vm));
    if (record.shutdownMs != null && st.state() == VmState.STOPPED) {
      ctx.retrying(record.source, "start of vm " + record.vm,
          () -> ctx.agent(record.source).within(Duration.ofSeconds(60)).start(record.vm));
    }
    if (st.state() == VmState.CRASHED) runner.note(MigrationContext.leftCrashed(record));
    LOG.info("migration {}: rolled back; vm {} runs on host {}, nothing of it is left on host {}", record.id,
        record.vm, record.source, record.target);
    return WarmPhase.ROLLED_BACK;
  }

  private Duration syncInterval() {
    return request.syncInterval() == null ? DEFAULT_SYNC_INTERVAL
        : Durations.parsePositive("sync_interval", request.syncInterval());
  }

  private void publishProgress(boolean force) {
    Instant now = ctx.clock().instant();
    if (!force && Duration.between(lastPublished, now).compareTo(PUBLISH_EVERY) < 0) return;
    lastPublished = now;
    ctx.progress(record, runner.phase().text());
    ctx.events().publish("migration.progress", record.id, ctx.view(record));
  }

  private static String lower(Enum<?> e) {
    return e == null ? "unknown" : e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
