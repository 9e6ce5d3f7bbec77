package dev.ferry.controller.migration;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
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
 * The steps of a storage migration's {@link StoragePhase}s, run by the {@link PhaseRunner}. Every
 * step observes the agent before it acts, so the runner can start again in any phase after a
 * controller crash: the mirrors live in QEMU and the agent reports what they are doing.
 *
 * <p>Before the pivot, any failure or a cancel rolls back (jobs cancelled, new images deleted,
 * the VM untouched on its old disks). From the pivot on, the VM writes to the new images and the
 * runner rolls forward; a step that fails there is retried with backoff (the migration shows
 * {@code stuck: REASON} meanwhile) until it goes through.
 */
final class StorageMigration implements Runnable, PhaseRunner.Steps<StoragePhase> {

  private static final Logger LOG = LoggerFactory.getLogger(StorageMigration.class);
  /** verification reads both images whole */
  static final Duration VERIFY_TIMEOUT = Duration.ofMinutes(30);
  private static final Duration POLL = Duration.ofMillis(250);
  private static final Duration PUBLISH_EVERY = Duration.ofMillis(500);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final StorageMigrationRequest request;
  private final AtomicBoolean cancel;
  private final boolean restarted;
  private final PhaseRunner<StoragePhase> runner;
  private final Progress progress = new Progress();
  private Instant lastPublished = Instant.EPOCH;
  /** a disk this runner's verification could not verify (see {@link #verifyAll}) */
  private boolean unverified;

  StorageMigration(MigrationContext ctx, MigrationRecord record, StorageMigrationRequest request, StoragePhase phase,
      AtomicBoolean cancel, boolean restarted) {
    this.ctx = ctx;
    this.record = record;
    this.request = request;
    this.cancel = cancel;
    this.restarted = restarted;
    this.runner = new PhaseRunner<>(ctx, record, phase, this);
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
        // the controller is stopping: leave the persisted phase to the next controller's recovery
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
  public StoragePhase act(StoragePhase phase) {
    return switch (phase) {
      case PENDING -> StoragePhase.MIRRORING;
      case MIRRORING -> {
        String failure = mirrorUntilReady();
        if (failure != null) record.reason = failure;
        yield failure != null || cancel.get() ? StoragePhase.CANCELLING : StoragePhase.READY;
      }
      // point of no return next: once a disk pivots, the guest's writes exist only in the new image
      case READY -> cancel.get() ? StoragePhase.CANCELLING : StoragePhase.PIVOTING;
      case PIVOTING -> pivotAll();
      case VERIFYING -> {
        String mismatch = verifyAll();
        if (mismatch != null) {
          record.verified = false;
          record.reason = mismatch;
          yield StoragePhase.DONE;
        }
        // a disk the agent could not verify leaves verified unknown, and so its old image kept
        if (!unverified) record.verified = true;
        yield StoragePhase.RELEASING;
      }
      case RELEASING -> {
        for (String disk : moved()) {
          ctx.retrying(record.source, "release of disk " + disk,
              () -> ctx.agent(record.source).release(record.vm, disk, keepSource()));
        }
        yield StoragePhase.DONE;
      }
      case CANCELLING -> {
        for (String disk : record.disks) cancelDisk(disk);
        yield StoragePhase.ROLLED_BACK;
      }
      case DONE, ROLLED_BACK -> phase;
    };
  }

  @Override
  public StoragePhase rollBack() {
    return StoragePhase.CANCELLING;
  }

  @Override
  public MigrationStatus end(StoragePhase last) {
    return switch (last) {
      // a partial move (some disks kept back at the pivot) did not do what was asked: failed, said which
      case DONE -> Boolean.FALSE.equals(record.verified) || !record.disksKept.isEmpty() ? MigrationStatus.FAILED
          : MigrationStatus.SUCCEEDED;
      case ROLLED_BACK -> record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
      case PENDING, MIRRORING, READY, PIVOTING, VERIFYING, RELEASING, CANCELLING ->
          throw new IllegalArgumentException("phase " + last.text() + " is not final");
    };
  }

  /** Starts (or finds) every disk's move and follows them until all are ready; a failure's text, or null. */
  private String mirrorUntilReady() {
    List<MirrorStatus> statuses = new ArrayList<>();
    for (String disk : record.disks) {
      MirrorStatus s = ctx.retrying(record.source, "status of disk " + disk,
          () -> ctx.agent(record.source).mirrorStatus(record.vm, disk));
      // a move the agent remembers from an earlier migration (released, failed) is not ours
      if (s == null || s.state() == MirrorState.NONE || !ours(s)) {
        DiskRow row = ctx.disk(record.vm, disk);
        String format = request.format() != null ? request.format() : row.format();
        long bandwidth = request.bandwidthMibS() == null ? 0 : (long) (request.bandwidthMibS() * 1024 * 1024);
        var body = new MirrorRequest(request.toPool(), format, bandwidth, suffix(), request.adaptive());
        try {
          // idempotent per suffix: an agent restarting as the move begins is ridden out, as every other call
          s = ctx.retrying(record.source, "start of the mirror of disk " + disk,
              () -> ctx.agent(record.source).mirror(record.vm, disk, body).value());
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
            () -> ctx.agent(record.source).mirrorStatus(record.vm, disk));
        statuses.set(i, s);
        if (s.state() == MirrorState.FAILED) return "disk " + disk + ": " + s.error();
        if (s.state() != MirrorState.READY) allReady = false;
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

  /**
   * Pivots every disk (a disk pivoted before answers as such); the next phase. A pivot the agent
   * refuses because the disk's copy failed before it (its job ended with an error, the VM still on
   * the old image) rolls the move back while no disk has pivoted: the point of no return was
   * recorded but never crossed. Once a disk pivoted, that refusal stays a failure to retry.
   */
  private StoragePhase pivotAll() {
    long maxPivot = 0;
    int pivoted = 0;
    // a restart after a keep-back was recorded: finish it, never pivot those disks after all
    for (String disk : record.disksKept) cancelDisk(disk);
    List<String> todo = moved();
    for (int i = 0; i < todo.size(); i++) {
      String disk = todo.get(i);
      MirrorStatus s;
      try {
        s = ctx.retrying(record.source, "pivot of disk " + disk, () -> ctx.agent(record.source).pivot(record.vm, disk));
      } catch (ControllerException e) {
        if (e.kind() != ControllerException.Kind.AGENT_REJECTED) throw e;
        MirrorStatus now = ctx.retrying(record.source, "status of disk " + disk,
            () -> ctx.agent(record.source).mirrorStatus(record.vm, disk));
        if (now.state() != MirrorState.FAILED) throw e;
        if (pivoted == 0) {
          record.reason = "disk " + disk + ": the copy failed before its pivot (" + now.error() + "); no disk pivoted,"
              + " rolled back: the vm keeps its old disk";
          LOG.warn("migration {}: {}", record.id, record.reason);
          return StoragePhase.CANCELLING;
        }
        keepBack(todo.subList(i, todo.size()), disk, now.error());
        break;
      }
      pivoted++;
      if (s.pivotMs() != null) maxPivot = Math.max(maxPivot, s.pivotMs());
      ctx.updateDisk(record.vm, disk, request.toPool(), s.targetFormat(), s.targetPath());
      LOG.info("migration {}: vm {} disk {} now on {} ({}), pivot {} ms", record.id, record.vm, disk, s.targetPath(),
          s.targetFormat(), s.pivotMs());
    }
    record.downtimeMs = maxPivot;
    record.observedPauseMs = maxPivot;
    return verify() ? StoragePhase.VERIFYING : StoragePhase.RELEASING;
  }

  /**
   * Some disks pivoted, then {@code failed}'s copy failed: the pivoted ones run on their new
   * images (their writes exist only there, no way back), so the move rolls forward with them, and
   * the failed disk and those after it stay on their old images, their mirrors cancelled and new
   * images dropped. Recorded before the next phase, so a restart does not pivot them after all.
   */
  private void keepBack(List<String> rest, String failed, String error) {
    record.disksKept = List.copyOf(rest);
    ctx.progress(record, StoragePhase.PIVOTING.text());
    for (String disk : rest) cancelDisk(disk);
    runner.note("disk " + failed + ": the copy failed before its pivot (" + error + "); disks " + moved()
        + " moved, disks " + rest + " stay on their old images");
    LOG.warn("migration {}: partial move, kept back {}", record.id, rest);
  }

  /** The disks this move pivoted: all but those kept back. */
  private List<String> moved() {
    return record.disks.stream().filter(d -> !record.disksKept.contains(d)).toList();
  }

  /**
   * Null when no disk differed, else what differed. A disk the agent refuses to verify (409: its
   * QEMU ended since the pivot, so the writes since then are unknown) cannot be verified by any
   * retry; past the pivot the move rolls forward without it, noted in the reason, the old image kept.
   */
  private String verifyAll() {
    for (String disk : moved()) {
      VerifyResult v;
      try {
        v = ctx.retrying(record.source, "verification of disk " + disk,
            () -> ctx.agent(record.source).within(VERIFY_TIMEOUT).verify(record.vm, disk));
      } catch (ControllerException e) {
        if (e.kind() != ControllerException.Kind.AGENT_REJECTED || e.agentProblem().status() != 409) throw e;
        unverified = true;
        String note = "disk " + disk + " not verified: " + e.getMessage()
            + "; the vm runs on the new image and the old image is kept";
        if (record.reason == null || !record.reason.contains(note)) runner.note(note);
        LOG.warn("migration {}: {}", record.id, note);
        continue;
      }
      LOG.info("migration {}: disk {} verify ok={} compared={} rewritten={} mismatched={}", record.id, disk, v.ok(),
          v.comparedBytes(), v.rewrittenBytes(), v.mismatchedBytes());
      if (!v.ok()) {
        return "verification failed for disk " + disk + ": " + v.mismatchedBytes() + " bytes differ, first at offset "
            + v.firstMismatchOffset() + "; the vm runs on the new image and the old image is kept";
      }
    }
    return null;
  }

  /** A cleanup the agent refused is noted (the VM never left its old disk); one it did not answer is retried. */
  private void cancelDisk(String disk) {
    try {
      ctx.retrying(record.source, "cancel of disk " + disk,
          () -> ctx.agent(record.source).cancelMirror(record.vm, disk));
    } catch (ControllerException e) {
      if (e.kind() != ControllerException.Kind.AGENT_REJECTED) throw e;
      String note = "cleanup of disk " + disk + " failed: " + e.getMessage();
      runner.note(note);
      LOG.warn("migration {}: {}", record.id, note);
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

  /** Kept on request, after a difference, and when a verification asked for could not be done. */
  private boolean keepSource() {
    return Boolean.TRUE.equals(request.keepSource()) || !Boolean.TRUE.equals(record.verified) && verify();
  }

  private void publishProgress(boolean force) {
    Instant now = ctx.clock().instant();
    if (!force && Duration.between(lastPublished, now).compareTo(PUBLISH_EVERY) < 0) return;
    lastPublished = now;
    ctx.progress(record, runner.phase().text());
    ctx.events().publish("migration.progress", record.id, ctx.view(record));
  }
}
