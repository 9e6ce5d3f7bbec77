package dev.ferry.controller.ft;

import dev.ferry.api.FtStatusView;
import dev.ferry.api.Json;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.FtPrimaryStatus;
import dev.ferry.api.agent.FtProtectRequest;
import dev.ferry.api.agent.FtSecondaryRequest;
import dev.ferry.api.agent.FtSecondaryHeartbeat;
import dev.ferry.api.agent.FtSecondaryStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.networks.NetworkService;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.FtRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one VM's protection through its persisted phases ({@link FtPhase}) until it rests
 * ({@link FtPhase#FAILED}, or the row is gone after a disable), watching it while it is
 * {@link FtPhase#PROTECTED}. Each step observes before it acts and its agent calls are idempotent,
 * so a step run twice (a restarted controller) is harmless. A phase moves by compare-and-set: a
 * runner that loses it (a disable moved the phase) stops.
 *
 * <p>Before {@link FtPhase#PROTECTED} any failure rolls the enable back: the guest never left the
 * primary. While protected, a secondary that stops answering is dropped: the primary ends COLO
 * and runs on {@link FtPhase#UNPROTECTED}.
 */
final class FtRunner {

  private static final Logger LOG = LoggerFactory.getLogger(FtRunner.class);
  static final Duration PREPARE_CALL = Duration.ofSeconds(90);
  static final Duration TEARDOWN_CALL = Duration.ofSeconds(40);
  static final Duration POLL = Duration.ofMillis(200);
  static final Duration WATCH = Duration.ofSeconds(1);
  static final Duration WATCH_CALL = Duration.ofSeconds(2);
  /** how often a protected pair is looked at: detection within 1 s needs several looks per second */
  static final Duration WATCH_ROUND = Duration.ofMillis(100);
  /** each look's calls: an agent that does not answer within this counts as unreached this round */
  static final Duration WATCH_ROUND_CALL = Duration.ofMillis(300);
  static final Duration STALE_RETRY = Duration.ofSeconds(2);
  /** the secondary must be in COLO's secondary mode within this after the primary reports COLO */
  static final Duration SECONDARY_MODE = Duration.ofSeconds(30);
  static final Duration SYNC_DEADLINE = Duration.ofMinutes(35);

  /** What a runner needs from the controller; {@code sleep} is injected so unit tests do not wait. */
  record Context(Store store, HostRegistry hosts, AgentClient agents, EventBus events, InstantSource clock, Sleeper sleep) {
    HostAgent agent(String host) {
      return agents.of(hosts.require("host", host));
    }
  }

  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  static void sleep(Duration d) throws InterruptedException {
    Thread.sleep(d);
  }

  private final Context ctx;
  private final String vm;

  FtRunner(Context ctx, String vm) {
    this.ctx = ctx;
    this.vm = vm;
  }

  /** Runs until the protection rests or this thread is interrupted. */
  void run() {
    while (!Thread.currentThread().isInterrupted()) {
      FtRow row = ctx.store().ft().find(vm).orElse(null);
      if (row == null) return;
      FtPhase phase = FtPhase.of(row.phase());
      FtRecord rec = FtService.record(row);
      try {
        switch (phase) {
          case PREPARING -> attempt(row, rec, () -> prepare(row, rec), FtPhase.SYNCING);
          case SYNCING -> attempt(row, rec, () -> sync(row, rec), FtPhase.PROTECTED);
          case PROTECTED -> watch(row, rec);
          case FAILING_OVER -> new FtFailover(ctx, vm).run(row, rec);
          case UNPROTECTED -> {
            if (rec.staleOn != null && new FtFailover(ctx, vm).removeStale(rec.staleOn, rec.deleteStaleDisks)) {
              rec.staleOn = null;
              ctx.store().ft().update(vm, FtPhase.UNPROTECTED.text(), FtService.json(rec), ctx.clock().instant());
            }
            if (new FtReprotect(ctx, vm).tryStart(row, rec)) continue;
            if (rec.staleOn == null && !rec.reprotect) return; // nothing left to do alone
            ctx.sleep().sleep(STALE_RETRY);
          }
          case ROLLING_BACK -> {
            tearDownRetrying(row, rec);
            if (rec.reprotecting) {
              // the guest ran on throughout: it is as unprotected as before the try
              FtReprotect.failed(rec, row.secondaryHost(), ctx.clock().instant());
              move(row, rec, FtPhase.UNPROTECTED);
              continue;
            }
            move(row, rec, FtPhase.FAILED);
            return;
          }
          case FAILED -> {
            return;
          }
          case DISABLING -> {
            tearDownRetrying(row, rec);
            if (ctx.store().ft().delete(vm, FtPhase.DISABLING.text())) {
              LOG.info("ft: vm {} disabled: a plain vm on {} again, the secondary on {} removed", vm, row.primaryHost(),
                  row.secondaryHost());
              ctx.events().publish("ft.disabled", vm, java.util.Map.of("vm", vm, "primary", row.primaryHost(),
                  "secondary", row.secondaryHost()));
            }
            return;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private interface Step {
    void run() throws InterruptedException;
  }

  /** A step before protection: on failure the enable rolls back with the reason. */
  private void attempt(FtRow row, FtRecord rec, Step step, FtPhase next) throws InterruptedException {
    try {
      step.run();
    } catch (RuntimeException e) {
      if (phaseNow() != FtPhase.of(row.phase())) return; // a disable took over
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      rec.reason = rec.reprotecting ? "re-protection with a secondary on " + row.secondaryHost() + " failed in phase "
          + row.phase() + ": " + why : "enable failed in phase " + row.phase() + ": " + why;
      LOG.warn("ft: vm {}: {}; rolling back", vm, rec.reason);
      move(row, rec, FtPhase.ROLLING_BACK);
      return;
    }
    if (phaseNow() == FtPhase.of(row.phase())) move(row, rec, next);
  }

  private void prepare(FtRow row, FtRecord rec) {
    HostAgent primary = ctx.agent(row.primaryHost());
    AgentVmStatus live = primary.vm(vm);
    VmRow v = ctx.store().vms().find(vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL, "vm '" + vm
        + "' is not in the store any more"));
    List<DiskRow> disks = ctx.store().vms().disks(vm);
    FtSecondaryRequest req = new FtSecondaryRequest(definition(ctx.store(), v, live, disks), live.memoryGivenBytes(),
        disks.stream().map(d -> new CopyStorageDisk(d.id(), d.pool(), d.format(), d.sizeBytes())).toList(),
        row.primaryHost());
    FtSecondaryStatus st = ctx.agent(row.secondaryHost()).within(PREPARE_CALL).ftSecondary(vm, req);
    rec.secondaryAddress = st.host();
    rec.nbdPort = st.nbdPort();
    rec.migrationPort = st.migrationPort();
    rec.replicas = st.replicas();
    rec.heartbeatPort = st.heartbeatPort();
    rec.heartbeatToken = st.heartbeatToken();
    rec.nicPorts = st.nicPorts();
    LOG.info("ft: vm {}: secondary on {} listening (nbd {}:{}, colo {}:{})", vm, row.secondaryHost(), st.host(),
        st.nbdPort(), st.host(), st.migrationPort());
  }

  /** The VM as its primary runs it: the resolved machine type, the same disks by id and NICs (same MACs), FT-ready. */
  private static AgentVmDefinition definition(Store store, VmRow v, AgentVmStatus live, List<DiskRow> disks) {
    VmCreateRequest spec;
    try {
      spec = Json.mapper().readValue(v.spec(), VmCreateRequest.class);
    } catch (IOException e) {
      throw new ControllerException(Kind.INTERNAL, "vm '" + v.name() + "' has an unreadable spec", e);
    }
    return new AgentVmDefinition(v.name(), v.cpus(), v.memoryRequestedBytes(), live.machineType(), v.cpuModel(),
        spec.kernel(), spec.initrd(), spec.append(), disks.stream().map(d -> new AgentDisk(d.id(), d.path(), d.format()))
            .toList(), NetworkService.agentNics(store, v.name()), Boolean.TRUE);
  }

  private void sync(FtRow row, FtRecord rec) throws InterruptedException {
    HostAgent primary = ctx.agent(row.primaryHost());
    var req = new FtProtectRequest(row.secondaryHost(), rec.secondaryAddress, rec.nbdPort, rec.migrationPort,
        row.checkpointIntervalMs(), rec.heartbeatPort, rec.heartbeatToken, rec.nicPorts);
    primary.ftProtect(vm, req);
    Instant deadline = ctx.clock().instant().plus(SYNC_DEADLINE);
    Instant published = Instant.EPOCH;
    while (phaseNow() == FtPhase.SYNCING) {
      FtPrimaryStatus st = primary.ftStatus(vm);
      take(rec, st);
      switch (st.phase()) {
        case FtPrimaryStatus.PROTECTED -> {
          awaitSecondaryMode(row);
          rec.since = ctx.clock().instant();
          FtReprotect.finished(rec, row.secondaryHost(), rec.since);
          return;
        }
        case FtPrimaryStatus.FAILED -> throw new ControllerException(Kind.CONFLICT, "the primary's agent: " + st.reason());
        // the primary's agent restarted and forgot the protection it was running: ask again
        case FtPrimaryStatus.NONE -> primary.ftProtect(vm, req);
        default -> { }
      }
      Instant now = ctx.clock().instant();
      if (now.isAfter(deadline)) throw new ControllerException(Kind.CONFLICT, "not protected within " + SYNC_DEADLINE);
      if (Duration.between(published, now).toMillis() >= 1000) {
        published = now;
        ctx.store().ft().update(vm, row.phase(), FtService.json(rec), now);
        ctx.events().publish("ft.progress", vm, FtService.view(row, rec));
      }
      ctx.sleep().sleep(POLL);
    }
  }

  /** "protected" needs both sides: the secondary enters its mode a moment after the primary's COLO starts. */
  private void awaitSecondaryMode(FtRow row) throws InterruptedException {
    HostAgent secondary = ctx.agent(row.secondaryHost());
    Instant until = ctx.clock().instant().plus(SECONDARY_MODE);
    String mode;
    while (!"secondary".equals(mode = secondary.ftSecondaryStatus(vm).coloMode())) {
      if (ctx.clock().instant().isAfter(until)) {
        throw new ControllerException(Kind.CONFLICT, "the secondary on " + row.secondaryHost() + " is in COLO mode "
            + mode + ", not secondary, " + SECONDARY_MODE.toSeconds() + " s after the primary started COLO");
      }
      ctx.sleep().sleep(POLL);
    }
  }

  /**
   * While protected: both agents looked at every {@link #WATCH_ROUND}, {@link FtWatch} decides; a
   * lost primary starts a failover, a lost secondary leaves the primary running unprotected. Each
   * status call also tells the primary's agent that the controller still reaches it (it fences
   * only after losing both the secondary and the controller).
   */
  private void watch(FtRow row, FtRecord rec) throws InterruptedException {
    // an old primary cut off at its failover may answer only after the re-protection: its stopped copy
    // must still go, from a thread of its own since an unreachable agent holds each try for STALE_CALL
    var staleGone = new AtomicBoolean();
    Thread stale = rec.staleOn == null ? null : Thread.ofVirtual().name("ft-stale-" + vm)
        .start(() -> removeStaleUntilGone(rec.staleOn, rec.deleteStaleDisks, staleGone));
    try {
      watchRounds(row, rec, ctx.clock().instant(), staleGone);
    } finally {
      if (stale != null) stale.interrupt();
    }
  }

  private void watchRounds(FtRow row, FtRecord rec, Instant started, AtomicBoolean staleGone)
      throws InterruptedException {
    Instant primaryOk = started;
    Instant secondaryOk = started;
    Instant persisted = started;
    // when the primary's checkpoint count last changed, on this clock
    Instant checkpointed = started;
    long checkpoints = rec.checkpoints;
    String waiting = null;
    while (phaseNow() == FtPhase.PROTECTED) {
      ctx.sleep().sleep(WATCH_ROUND);
      FtPrimaryStatus p = null;
      String pErr = null;
      try {
        p = ctx.agent(row.primaryHost()).within(WATCH_ROUND_CALL).ftStatus(vm);
        primaryOk = ctx.clock().instant();
        take(rec, p);
        if (p.checkpoints() != checkpoints) {
          checkpoints = p.checkpoints();
          checkpointed = primaryOk;
        }
      } catch (RuntimeException e) {
        pErr = e.getMessage() == null ? e.toString() : e.getMessage();
      }
      FtSecondaryHeartbeat s = null;
      String sErr = null;
      boolean sGone = false;
      try {
        s = ctx.agent(row.secondaryHost()).within(WATCH_ROUND_CALL).ftSecondaryHeartbeat(vm);
        secondaryOk = ctx.clock().instant();
      } catch (ControllerException e) {
        sErr = e.getMessage();
        sGone = FtFailover.notFound(e);
      } catch (RuntimeException e) {
        sErr = e.getMessage() == null ? e.toString() : e.getMessage();
      }
      Instant at = ctx.clock().instant();
      var round = new FtWatch.Round(at, p, pErr, Duration.between(primaryOk, at), s, sErr, sGone,
          Duration.between(secondaryOk, at), Duration.between(checkpointed, at), row.checkpointIntervalMs());
      FtWatch.Verdict verdict = FtWatch.judge(round, row.primaryHost(), row.secondaryHost());
      Duration again = verdict instanceof FtWatch.Wait ? FtWatch.lookAgainIn(round) : null;
      if (again != null) {
        // a primary host that may be lost: the secondary alone is asked again once the silence reaches the bound
        ctx.sleep().sleep(again);
        try {
          FtSecondaryHeartbeat s2 = ctx.agent(row.secondaryHost()).within(WATCH_ROUND_CALL).ftSecondaryHeartbeat(vm);
          secondaryOk = at = ctx.clock().instant();
          round = new FtWatch.Round(at, null, pErr, Duration.between(primaryOk, at), s2, null, false, Duration.ZERO,
              Duration.between(checkpointed, at), row.checkpointIntervalMs());
          verdict = FtWatch.judge(round, row.primaryHost(), row.secondaryHost());
        } catch (RuntimeException e) {
          // the next full round looks at both again
        }
      }
      switch (verdict) {
        case FtWatch.Healthy h -> waiting = null;
        case FtWatch.Wait w -> {
          if (!w.why().equals(waiting)) LOG.info("ft: vm {}: waiting: {}", vm, w.why());
          waiting = w.why();
        }
        case FtWatch.SecondaryLost lost -> {
          dropSecondary(row, rec, lost.why(), at);
          return;
        }
        case FtWatch.PrimaryLost lost -> {
          startFailover(row, rec, lost.why(), lost.failureAt(), at);
          return;
        }
      }
      boolean staleRemoved = staleGone.getAndSet(false);
      if (staleRemoved) rec.staleOn = null;
      if (staleRemoved || Duration.between(persisted, at).toSeconds() >= 5) {
        persisted = at;
        ctx.store().ft().update(vm, FtPhase.PROTECTED.text(), FtService.json(rec), at);
      }
    }
  }

  private void removeStaleUntilGone(String host, boolean deleteDisks, AtomicBoolean gone) {
    try {
      while (!new FtFailover(ctx, vm).removeStale(host, deleteDisks)) ctx.sleep().sleep(STALE_RETRY);
      gone.set(true);
    } catch (InterruptedException e) {
      // the watch ended: the next phase's runner tries again while the record names the host
    }
  }

  /** Records the decision (phase failing_over with its cause) before anything is asked of an agent. */
  private void startFailover(FtRow row, FtRecord rec, String cause, Instant failureAt, Instant detectedAt) {
    var f = new FtRecord.Pending();
    f.cause = cause;
    f.failureAt = failureAt;
    f.detectedAt = detectedAt;
    rec.pending = f;
    Instant now = ctx.clock().instant();
    // a planned failover (ft failover) may have moved the phase meanwhile: then the loop reads it and goes on with that
    if (!ctx.store().ft().advance(vm, FtPhase.PROTECTED.text(), FtPhase.FAILING_OVER.text(), FtService.json(rec), now)) {
      LOG.info("ft: vm {}: the phase moved before the failover could be recorded ({})", vm, cause);
      return;
    }
    LOG.warn("ft: vm {}: {}; the secondary on {} takes over", vm, cause, row.secondaryHost());
    FtRow moved = new FtRow(row.vm(), FtPhase.FAILING_OVER.text(), row.primaryHost(), row.secondaryHost(),
        row.checkpointIntervalMs(), FtService.json(rec), row.created(), now);
    ctx.events().publish("ft.state", vm, FtService.view(moved, rec));
  }

  /** The secondary is lost: the primary drops replication and COLO and runs on alone. */
  private void dropSecondary(FtRow row, FtRecord rec, String why, Instant detected) {
    LOG.warn("ft: vm {}: {}; the primary on {} drops replication and runs on unprotected", vm, why, row.primaryHost());
    ctx.agent(row.primaryHost()).within(TEARDOWN_CALL).ftUnprotect(vm);
    Instant running = ctx.clock().instant();
    rec.failovers.add(new FtStatusView.Failover(detected, "secondary lost: " + why, null,
        Duration.between(detected, running).toMillis(), row.secondaryHost(), row.primaryHost()));
    rec.reason = why;
    rec.checkpoints = 0;
    rec.secondaryGone = true;
    rec.unprotectedAt = running;
    try {
      ctx.agent(row.secondaryHost()).within(WATCH_CALL).removeFtSecondary(vm);
    } catch (RuntimeException e) {
      LOG.info("ft: vm {}: the secondary's leftovers on {} stay until its agent answers: {}", vm, row.secondaryHost(),
          e.getMessage());
    }
    move(row, rec, FtPhase.UNPROTECTED);
  }

  static final int TEARDOWN_TRIES = 3;

  /** {@link #tearDown}, tried again after a second when an agent could not be reached; then the failure goes up. */
  private void tearDownRetrying(FtRow row, FtRecord rec) throws InterruptedException {
    for (int i = 1; ; i++) {
      try {
        tearDown(row, rec);
        return;
      } catch (RuntimeException e) {
        if (i >= TEARDOWN_TRIES) throw e;
        LOG.warn("ft: vm {}: taking the pair down failed (try {} of {}): {}", vm, i, TEARDOWN_TRIES, e.getMessage());
        ctx.sleep().sleep(Duration.ofSeconds(1));
      }
    }
  }

  /** Ends COLO on the primary (the guest runs on) and removes the secondary; each side's 404 means done. */
  private void tearDown(FtRow row, FtRecord rec) {
    try {
      ctx.agent(row.primaryHost()).within(TEARDOWN_CALL).ftUnprotect(vm);
    } catch (ControllerException e) {
      if (!notFound(e)) throw e;
    }
    if (rec.secondaryGone) return; // it took over, or was dropped: nothing of the pair is left there
    try {
      ctx.agent(row.secondaryHost()).within(TEARDOWN_CALL).removeFtSecondary(vm);
    } catch (ControllerException e) {
      if (!notFound(e)) throw e;
    }
  }

  private static boolean notFound(ControllerException e) {
    return e.kind() == Kind.AGENT_REJECTED && e.agentProblem() != null && e.agentProblem().status() == 404;
  }

  /** The primary's figures into the record. */
  static void take(FtRecord rec, FtPrimaryStatus st) {
    if (st == null) return;
    rec.syncedBytes = st.syncedBytes();
    rec.syncTotalBytes = st.syncTotalBytes();
    if (st.enablePauseMs() != null) rec.enablePauseMs = st.enablePauseMs();
    if (st.phase().equals(FtPrimaryStatus.PROTECTED)) {
      rec.checkpoints = st.checkpoints();
      rec.pauseMedianMs = st.checkpointPauseMedianMs();
      rec.pauseMaxMs = st.checkpointPauseMaxMs();
      rec.lastCheckpointAt = st.lastCheckpointAt();
    }
  }

  private FtPhase phaseNow() {
    return ctx.store().ft().find(vm).map(r -> FtPhase.of(r.phase())).orElse(null);
  }

  /** Compare-and-set from the row's phase; a runner that loses it stops (someone else moved the VM on). */
  private void move(FtRow row, FtRecord rec, FtPhase next) {
    FtPhase from = FtPhase.of(row.phase());
    if (!from.canMoveTo(next)) {
      throw new IllegalStateException("ft of vm '" + vm + "': refusing to go from " + from.text() + " to " + next.text());
    }
    Instant now = ctx.clock().instant();
    if (!ctx.store().ft().advance(vm, from.text(), next.text(), FtService.json(rec), now)) {
      throw new ControllerException(Kind.CONFLICT, "ft of vm '" + vm + "' is no longer in phase " + from.text());
    }
    FtRow moved = new FtRow(row.vm(), next.text(), row.primaryHost(), row.secondaryHost(), row.checkpointIntervalMs(),
        FtService.json(rec), row.created(), now);
    LOG.info("ft: vm {} {} -> {} ({} ms since enable){}", vm, from.text(), next.text(),
        Duration.between(row.created(), now).toMillis(), rec.reason == null ? "" : " (" + rec.reason + ")");
    ctx.events().publish("ft.state", vm, FtService.view(moved, rec));
  }
}
