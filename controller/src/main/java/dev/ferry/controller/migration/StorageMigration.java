package dev.ferry.controller.migration;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.controller.ControllerException;
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
 * Runs one storage migration through its {@link StoragePhase}s. Every step observes the agent
 * before it acts, so the runner can start again in any phase after a controller crash: the
 * mirrors live in QEMU and the agent reports what they are doing.
 *
 * <p>Before the pivot, any failure or a cancel rolls back (jobs cancelled, new images deleted,
 * the VM untouched on its old disks). From the pivot on, the VM writes to the new images and the
 * runner rolls forward; a failure there leaves the old image in place and says so.
 */
final class StorageMigration implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(StorageMigration.class);
  private static final Duration POLL = Duration.ofMillis(250);
  private static final Duration PUBLISH_EVERY = Duration.ofMillis(500);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final StorageMigrationRequest request;
  private final AtomicBoolean cancel;
  private StoragePhase phase;
  private final Progress progress = new Progress();
  private Instant lastPublished = Instant.EPOCH;

  StorageMigration(MigrationContext ctx, MigrationRecord record, StorageMigrationRequest request, StoragePhase phase,
      AtomicBoolean cancel) {
    this.ctx = ctx;
    this.record = record;
    this.request = request;
    this.phase = phase;
    this.cancel = cancel;
  }

  @Override
  public void run() {
    MDC.put("migration", record.id);
    MDC.put("vm", record.vm);
    try {
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
      MDC.clear();
    }
  }

  private void loop() {
    while (true) {
      switch (phase) {
        case PENDING -> advance(StoragePhase.MIRRORING);
        case MIRRORING -> {
          String failure = mirrorUntilReady();
          if (failure != null) {
            record.reason = failure;
            advance(StoragePhase.CANCELLING);
          } else if (cancel.get()) {
            advance(StoragePhase.CANCELLING);
          } else {
            advance(StoragePhase.READY);
          }
        }
        case READY -> {
          if (cancel.get()) {
            advance(StoragePhase.CANCELLING);
          } else {
            // point of no return: once a disk pivots, the guest's writes exist only in the new image
            advance(StoragePhase.PIVOTING);
          }
        }
        case PIVOTING -> {
          pivotAll();
          advance(verify() ? StoragePhase.VERIFYING : StoragePhase.RELEASING);
        }
        case VERIFYING -> {
          String mismatch = verifyAll();
          if (mismatch != null) {
            record.verified = false;
            record.reason = mismatch;
            finish(StoragePhase.DONE, MigrationStatus.FAILED);
            return;
          }
          record.verified = true;
          advance(StoragePhase.RELEASING);
        }
        case RELEASING -> {
          for (String disk : record.disks) {
            ctx.agents().post(ctx.host(record.source), path(disk) + "/release?keep_source=" + keepSource(), null,
                MirrorStatus.class);
          }
          finish(StoragePhase.DONE, MigrationStatus.SUCCEEDED);
          return;
        }
        case CANCELLING -> {
          for (String disk : record.disks) cancelDisk(disk);
          finish(StoragePhase.ROLLED_BACK, record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED);
          return;
        }
        case DONE, ROLLED_BACK -> {
          return;
        }
      }
    }
  }

  /** Starts (or finds) every disk's move and follows them until all are ready; a failure's text, or null. */
  private String mirrorUntilReady() {
    List<MirrorStatus> statuses = new ArrayList<>();
    for (String disk : record.disks) {
      MirrorStatus s = ctx.retrying(record.source, "status of disk " + disk,
          () -> ctx.agents().get(ctx.host(record.source), path(disk), MirrorStatus.class));
      // a move the agent remembers from an earlier migration (released, failed) is not ours
      if (s == null || "none".equals(s.state()) || !ours(s)) {
        DiskRow row = ctx.disk(record.vm, disk);
        String format = request.format() != null ? request.format() : row.format();
        long bandwidth = request.bandwidthMibS() == null ? 0 : (long) (request.bandwidthMibS() * 1024 * 1024);
        var body = new MirrorRequest(request.toPool(), format, bandwidth, suffix());
        try {
          s = ctx.agents().put(ctx.host(record.source), path(disk), body, MirrorStatus.class);
        } catch (ControllerException e) {
          if (e.kind() == ControllerException.Kind.AGENT_REJECTED) return "disk " + disk + ": " + e.getMessage();
          throw e;
        }
      }
      statuses.add(s);
    }
    while (true) {
      long done = 0;
      long total = 0;
      boolean allReady = true;
      for (int i = 0; i < record.disks.size(); i++) {
        String disk = record.disks.get(i);
        MirrorStatus s = ctx.retrying(record.source, "status of disk " + disk,
            () -> ctx.agents().get(ctx.host(record.source), path(disk), MirrorStatus.class));
        statuses.set(i, s);
        if ("failed".equals(s.state())) return "disk " + disk + ": " + s.error();
        if (!"ready".equals(s.state())) allReady = false;
        done += s.offset();
        total += Math.max(s.length(), s.offset());
      }
      progress.sample(done, total, ctx.clock().instant());
      record.progress(progress);
      publishProgress(false);
      if (allReady || cancel.get()) return null;
      ctx.sleep(POLL);
    }
  }

  private void pivotAll() {
    long maxPivot = 0;
    for (String disk : record.disks) {
      MirrorStatus s = ctx.retrying(record.source, "pivot of disk " + disk,
          () -> ctx.agents().post(ctx.host(record.source), path(disk) + "/pivot", null, MirrorStatus.class));
      if (s.pivotMs() != null) maxPivot = Math.max(maxPivot, s.pivotMs());
      ctx.updateDisk(record.vm, disk, request.toPool(), s.targetFormat(), s.targetPath());
      LOG.info("migration {}: vm {} disk {} now on {} ({}), pivot {} ms", record.id, record.vm, disk, s.targetPath(),
          s.targetFormat(), s.pivotMs());
    }
    record.downtimeMs = maxPivot;
    record.observedPauseMs = maxPivot;
  }

  /** Null when every disk verified, else what differed. */
  private String verifyAll() {
    for (String disk : record.disks) {
      VerifyResult v = ctx.retrying(record.source, "verification of disk " + disk,
          () -> ctx.agents().call(ctx.host(record.source), "POST", path(disk) + "/verify", null, VerifyResult.class,
              Duration.ofMinutes(30)));
      LOG.info("migration {}: disk {} verify ok={} compared={} rewritten={} mismatched={}", record.id, disk, v.ok(),
          v.comparedBytes(), v.rewrittenBytes(), v.mismatchedBytes());
      if (!v.ok()) {
        return "verification failed for disk " + disk + ": " + v.mismatchedBytes() + " bytes differ, first at offset "
            + v.firstMismatchOffset() + "; the vm runs on the new image and the old image is kept";
      }
    }
    return null;
  }

  private void cancelDisk(String disk) {
    try {
      ctx.retrying(record.source, "cancel of disk " + disk,
          () -> ctx.agents().post(ctx.host(record.source), path(disk) + "/cancel", null, MirrorStatus.class));
    } catch (ControllerException e) {
      // best effort: the VM never left its old disk; a leftover image is named in the reason
      String note = "cleanup of disk " + disk + " failed: " + e.getMessage();
      record.reason = record.reason == null ? note : record.reason + "; " + note;
      LOG.warn("migration {}: {}", record.id, note);
    }
  }

  private void finishAfterError(RuntimeException e) {
    String why = e.getMessage() == null ? e.toString() : e.getMessage();
    try {
      if (phase.beforePointOfNoReturn()) {
        record.reason = why;
        for (String disk : record.disks) cancelDisk(disk);
        finish(StoragePhase.ROLLED_BACK, MigrationStatus.FAILED);
      } else if (phase != StoragePhase.DONE && phase != StoragePhase.ROLLED_BACK) {
        record.reason = why + " (in phase " + phase.text() + ", after the pivot: the vm runs on the new image"
            + (phase == StoragePhase.RELEASING ? ")" : "; the old image is kept)");
        finish(StoragePhase.DONE, MigrationStatus.FAILED);
      }
    } catch (RuntimeException again) {
      LOG.error("migration {}: cannot record the failure", record.id, again);
    }
  }

  /** Names this migration's target images, so its own moves are told from earlier ones. */
  private String suffix() {
    return record.id.substring(0, 8);
  }

  private boolean ours(MirrorStatus s) {
    return s.targetPath() != null && s.targetPath().contains(suffix());
  }

  private boolean verify() {
    return request.verify() == null || request.verify().equals("full");
  }

  private boolean keepSource() {
    return Boolean.TRUE.equals(request.keepSource()) || Boolean.FALSE.equals(record.verified);
  }

  private String path(String disk) {
    return record.vmPath() + "/mirrors/" + disk;
  }

  private void advance(StoragePhase next) {
    StoragePhase from = phase;
    record.phase = next.text();
    ctx.advance(record, from.text(), next.text());
    phase = next;
    LOG.info("migration {}: vm {} {} -> {}", record.id, record.vm, from.text(), next.text());
    ctx.events().publish("migration.phase", record.id, record.view());
  }

  private void finish(StoragePhase last, MigrationStatus status) {
    record.end(status, ctx.clock().instant());
    advance(last);
    LOG.info("migration {}: vm {} {} in {} ms{}", record.id, record.vm, status.name().toLowerCase(java.util.Locale.ROOT),
        record.view().totalMs(), record.reason == null ? "" : " (" + record.reason + ")");
    ctx.events().publish("migration.done", record.id, record.view());
  }

  private void publishProgress(boolean force) {
    Instant now = ctx.clock().instant();
    if (!force && Duration.between(lastPublished, now).compareTo(PUBLISH_EVERY) < 0) return;
    lastPublished = now;
    ctx.progress(record, phase.text());
    ctx.events().publish("migration.progress", record.id, record.view());
  }
}
