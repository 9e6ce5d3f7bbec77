package dev.ferry.controller.ft;

import dev.ferry.api.VmState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.FtRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.VmRow;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-protection of a VM that runs unprotected: the first online host that passes the checks an
 * enable makes of a secondary ({@link FtPreflight#secondaryFor}) becomes the new secondary, and
 * the protection goes back to {@link FtPhase#PREPARING} with it, the survivor as primary. The
 * same phases as an enable then build it (replica sync by mirror while the guest runs, then COLO),
 * so a restarted controller resumes it like an enable; a failure rolls it back to
 * {@link FtPhase#UNPROTECTED} (the guest running as before) and that host waits
 * {@link #RETRY_SAME_HOST} before it is tried again.
 *
 * <p>Not a candidate: the primary, a host that may still hold a stale copy of the VM (an old
 * primary whose agent has not answered since the failover), a host the checks refuse.
 */
final class FtReprotect {

  private static final Logger LOG = LoggerFactory.getLogger(FtReprotect.class);
  static final Duration RETRY_SAME_HOST = Duration.ofSeconds(60);

  private final FtRunner.Context ctx;
  private final String vm;

  FtReprotect(FtRunner.Context ctx, String vm) {
    this.ctx = ctx;
    this.vm = vm;
  }

  /** True when the protection moved on to a new secondary; false when no host is eligible now (why: logged once per change). */
  boolean tryStart(FtRow row, FtRecord rec) {
    if (!rec.reprotect) return false;
    VmRow v = ctx.store().vms().find(vm).orElse(null);
    if (v == null || v.state() != VmState.RUNNING || !v.host().equals(row.primaryHost())) return false;
    HostRow primary = ctx.hosts().online().stream().filter(h -> h.name().equals(row.primaryHost())).findFirst()
        .orElse(null);
    if (primary == null) return false;
    Instant now = ctx.clock().instant();
    var preflight = new FtPreflight(ctx.store(), ctx.hosts());
    List<String> refused = new ArrayList<>();
    List<HostRow> candidates = ctx.hosts().online().stream().filter(h -> !h.name().equals(row.primaryHost()))
        .sorted(Comparator.comparing(HostRow::name)).toList();
    for (HostRow h : candidates) {
      if (h.name().equals(rec.staleOn)) {
        refused.add(h.name() + ": may still hold the old copy");
        continue;
      }
      if (h.name().equals(rec.reprotectFailedOn) && rec.reprotectRetryAt != null && now.isBefore(rec.reprotectRetryAt)) {
        refused.add(h.name() + ": its last re-protection failed, tried again from " + rec.reprotectRetryAt);
        continue;
      }
      try {
        preflight.secondaryFor(v, primary, h, row.checkpointIntervalMs());
      } catch (ControllerException e) {
        refused.add(h.name() + ": " + e.getMessage());
        continue;
      }
      return start(row, rec, h.name(), now);
    }
    String why = candidates.isEmpty() ? "no other host is online" : String.join("; ", refused);
    if (!why.equals(rec.reprotectWaiting)) {
      LOG.info("ft: vm {}: unprotected, no host for a new secondary yet ({})", vm, why);
      rec.reprotectWaiting = why;
      ctx.store().ft().update(vm, FtPhase.UNPROTECTED.text(), FtService.json(rec), now);
    }
    return false;
  }

  private boolean start(FtRow row, FtRecord rec, String secondary, Instant now) {
    String before = rec.reason;
    rec.reprotecting = true;
    rec.reprotectWaiting = null;
    rec.secondaryGone = false;
    rec.secondaryAddress = null;
    rec.nbdPort = null;
    rec.migrationPort = null;
    rec.heartbeatPort = null;
    rec.heartbeatToken = null;
    rec.nicPorts = null;
    rec.replicas = null;
    rec.syncedBytes = null;
    rec.syncTotalBytes = null;
    rec.enablePauseMs = null;
    rec.checkpoints = 0;
    rec.pauseMedianMs = null;
    rec.pauseMaxMs = null;
    rec.lastCheckpointAt = null;
    rec.reason = "re-protecting with a secondary on " + secondary + (before == null ? "" : " (unprotected: " + before + ")");
    if (!ctx.store().ft().rebind(vm, FtPhase.UNPROTECTED.text(), FtPhase.PREPARING.text(), secondary,
        FtService.json(rec), now)) {
      return false;
    }
    LOG.info("ft: vm {} unprotected -> preparing: re-protecting, primary {}, new secondary {}", vm, row.primaryHost(),
        secondary);
    FtRow moved = new FtRow(row.vm(), FtPhase.PREPARING.text(), row.primaryHost(), secondary, row.checkpointIntervalMs(),
        FtService.json(rec), row.created(), now);
    ctx.events().publish("ft.state", vm, FtService.view(moved, rec));
    return true;
  }

  /** Protected again: the re-protection is recorded with how long the VM ran unprotected and the guest's pause. */
  static void finished(FtRecord rec, String secondary, Instant now) {
    if (!rec.reprotecting) return;
    long took = rec.unprotectedAt == null ? 0 : Math.max(0, Duration.between(rec.unprotectedAt, now).toMillis());
    rec.reprotections.add(new dev.ferry.api.FtStatusView.Reprotection(now, secondary, took, rec.enablePauseMs));
    rec.reprotecting = false;
    rec.reprotectFailedOn = null;
    rec.reprotectRetryAt = null;
    rec.reason = null;
  }

  /** A re-protection rolled back: the VM runs unprotected as before, and this host waits before another try. */
  static void failed(FtRecord rec, String secondary, Instant now) {
    rec.reprotecting = false;
    rec.secondaryGone = true;
    rec.reprotectFailedOn = secondary;
    rec.reprotectRetryAt = now.plus(RETRY_SAME_HOST);
    rec.unprotectedAt = rec.unprotectedAt == null ? now : rec.unprotectedAt;
  }
}
