package dev.ferry.controller.ft;

import dev.ferry.api.FtStatusView;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.FtRow;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase {@link FtPhase#FAILING_OVER}: the secondary takes over and becomes the VM's owner.
 *
 * <p>A planned failover ({@code ferry ft failover}) first fences the primary (its QEMU stopped, so
 * the guest produces nothing more there); when that fails the failover is abandoned and the VM
 * stays {@link FtPhase#PROTECTED}. Then {@code takeoverAsked} is persisted: the point of no return.
 * From there on only forward: the secondary's takeover (idempotent on its agent) is asked until it
 * answers, and one store transaction makes the secondary host the owner, points the disks at the
 * replicas and moves the protection to {@link FtPhase#UNPROTECTED}. The old primary's copy is
 * removed when its agent answers ({@link FtRecord#staleOn}).
 */
final class FtFailover {

  private static final Logger LOG = LoggerFactory.getLogger(FtFailover.class);
  static final Duration FENCE_CALL = Duration.ofSeconds(3);
  static final int FENCE_TRIES = 2;
  static final Duration TAKEOVER_CALL = Duration.ofSeconds(30);
  static final Duration STALE_CALL = Duration.ofSeconds(10);

  private final FtRunner.Context ctx;
  private final String vm;

  FtFailover(FtRunner.Context ctx, String vm) {
    this.ctx = ctx;
    this.vm = vm;
  }

  /** Runs the failover the row's record holds; returns the phase it left the protection in. */
  FtPhase run(FtRow row, FtRecord rec) throws InterruptedException {
    FtRecord.Pending f = rec.pending;
    if (f == null) throw new IllegalStateException("vm '" + vm + "' is failing over without a recorded cause");
    if (!f.takeoverAsked && f.planned) {
      String refused = fence(row);
      if (refused != null) {
        rec.pending = null;
        rec.reason = "planned failover abandoned: " + refused;
        LOG.warn("ft: vm {}: {}", vm, rec.reason);
        return advance(row, rec, FtPhase.PROTECTED) ? FtPhase.PROTECTED : null;
      }
    }
    if (!f.takeoverAsked) {
      // point of no return: from here the secondary is the VM, whatever happens to this controller
      f.takeoverAsked = true;
      ctx.store().ft().update(vm, FtPhase.FAILING_OVER.text(), FtService.json(rec), ctx.clock().instant());
    }
    AgentVmStatus running = takeover(row);
    Instant runningAt = ctx.clock().instant();
    Instant detected = f.detectedAt != null ? f.detectedAt : runningAt;
    Long detectedMs = f.failureAt == null ? null : Math.max(0, Duration.between(f.failureAt, detected).toMillis());
    long takeoverMs = Math.max(0, Duration.between(detected, runningAt).toMillis());
    rec.failovers.add(new FtStatusView.Failover(detected, f.cause, detectedMs, takeoverMs, row.primaryHost(),
        row.secondaryHost()));
    rec.reason = (f.planned ? "planned failover from " : "failed over from ") + row.primaryHost() + ": " + f.cause;
    rec.pending = null;
    rec.unprotectedAt = runningAt;
    rec.staleOn = row.primaryHost();
    rec.deleteStaleDisks = f.planned;
    rec.secondaryGone = true;
    rec.checkpoints = 0;
    rec.pauseMedianMs = null;
    rec.pauseMaxMs = null;
    Map<String, String> disks = new LinkedHashMap<>(rec.replicas == null ? Map.of() : rec.replicas);
    Instant now = ctx.clock().instant();
    if (!ctx.store().ft().failover(vm, FtPhase.FAILING_OVER.text(), FtPhase.UNPROTECTED.text(), row.secondaryHost(),
        row.primaryHost(), disks, FtService.json(rec), now)) {
      throw new ControllerException(Kind.CONFLICT, "ft of vm '" + vm + "' is no longer failing over");
    }
    LOG.info("ft: vm {} failing_over -> unprotected: now owned by {} ({}), detected {} ms after the last sign of life,"
        + " guest running {} ms after detection; cause: {}", vm, row.secondaryHost(), running.state(), detectedMs,
        takeoverMs, f.cause);
    FtRow moved = ctx.store().ft().find(vm).orElseThrow();
    ctx.events().publish("ft.state", vm, FtService.view(moved, rec));
    ctx.events().publish("vm.moved", vm, Map.of("name", vm, "from", row.primaryHost(), "to", row.secondaryHost(),
        "by", "ft failover"));
    return FtPhase.UNPROTECTED;
  }

  /** Null when the primary is fenced (or its QEMU is gone); otherwise why not. */
  private String fence(FtRow row) throws InterruptedException {
    String last = null;
    for (int i = 1; i <= FENCE_TRIES; i++) {
      try {
        ctx.agent(row.primaryHost()).within(FENCE_CALL).ftFence(vm);
        return null;
      } catch (RuntimeException e) {
        last = "the primary on " + row.primaryHost() + " could not be fenced: " + e.getMessage();
        LOG.warn("ft: vm {}: {} (try {} of {})", vm, last, i, FENCE_TRIES);
        ctx.sleep().sleep(Duration.ofMillis(300));
      }
    }
    return last;
  }

  /** Asked until the secondary's agent answers: past the point of no return there is no way back. */
  private AgentVmStatus takeover(FtRow row) throws InterruptedException {
    HostAgent secondary = ctx.agent(row.secondaryHost());
    for (int i = 1; ; i++) {
      try {
        return secondary.within(TAKEOVER_CALL).ftTakeover(vm);
      } catch (RuntimeException e) {
        LOG.warn("ft: vm {}: takeover on {} failed (try {}), asking again: {}", vm, row.secondaryHost(), i, e.getMessage());
        ctx.sleep().sleep(Duration.ofSeconds(1));
      }
    }
  }

  /**
   * The old primary's copy goes once its agent answers: its QEMU killed (it was fenced or is dead),
   * its definition deleted, with its disks after a planned failover, kept after a lost host. True
   * when nothing is left there.
   */
  boolean removeStale(String host, boolean deleteDisks) {
    HostAgent old;
    try {
      old = ctx.agent(host).within(STALE_CALL);
      old.kill(vm);
    } catch (ControllerException e) {
      if (!notFound(e)) {
        LOG.debug("ft: vm {}: the old copy on {} stays until its agent answers: {}", vm, host, e.getMessage());
        return false;
      }
      return true;
    } catch (RuntimeException e) {
      LOG.debug("ft: vm {}: the old copy on {} stays until its agent answers: {}", vm, host, e.getMessage());
      return false;
    }
    try {
      old.deleteVm(vm, deleteDisks);
    } catch (ControllerException e) {
      if (!notFound(e)) return false;
    } catch (RuntimeException e) {
      return false;
    }
    LOG.info("ft: vm {}: the old primary's copy on {} removed ({})", vm, host, deleteDisks ? "with its disks"
        : "its disk images kept");
    return true;
  }

  private boolean advance(FtRow row, FtRecord rec, FtPhase next) {
    Instant now = ctx.clock().instant();
    if (!ctx.store().ft().advance(vm, FtPhase.FAILING_OVER.text(), next.text(), FtService.json(rec), now)) return false;
    FtRow moved = new FtRow(row.vm(), next.text(), row.primaryHost(), row.secondaryHost(), row.checkpointIntervalMs(),
        FtService.json(rec), row.created(), now);
    ctx.events().publish("ft.state", vm, FtService.view(moved, rec));
    return true;
  }

  static boolean notFound(ControllerException e) {
    return e.kind() == Kind.AGENT_REJECTED && e.agentProblem() != null && e.agentProblem().status() == 404;
  }
}
