package dev.ferry.controller.migration;

import dev.ferry.api.ColdMigrationRequest;
import dev.ferry.api.Durations;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdCopyStatus;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.ColdExportRequest;
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
 * The steps of a cold migration's {@link ColdPhase}s, run by the {@link PhaseRunner}. Disk data
 * goes host to host (the target agent pulls from the source agent's NBD export); the controller
 * only starts, watches and compares. Every step observes before it acts: the export and the copy
 * are idempotent per migration id, the definition is a redefine, and the ownership change is
 * skipped when the store shows it done.
 */
final class ColdMigration implements Runnable, PhaseRunner.Steps<ColdPhase> {

  private static final Logger LOG = LoggerFactory.getLogger(ColdMigration.class);
  static final Duration DEFAULT_SHUTDOWN = Duration.ofSeconds(120);
  private static final Duration POLL = Duration.ofMillis(250);
  private static final Duration PUBLISH_EVERY = Duration.ofMillis(500);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final ColdMigrationRequest request;
  private final AtomicBoolean cancel;
  private final boolean restarted;
  private final PhaseRunner<ColdPhase> runner;
  private final Handover handover;
  private final Progress progress = new Progress();
  private Instant lastPublished = Instant.EPOCH;
  /** when the guest stopped being available: the shutdown request, else the migration's start */
  private Instant downFrom;
  /** the VM moved but did not start on the target (the reason says why): the migration ends failed */
  private boolean startFailed;
  /** when this runner began defining the VM on the target (null after a restart past it): the start of startMs */
  private Instant definingFrom;

  ColdMigration(MigrationContext ctx, MigrationRecord record, ColdMigrationRequest request, ColdPhase phase,
      AtomicBoolean cancel, boolean restarted) {
    this.ctx = ctx;
    this.record = record;
    this.request = request;
    this.cancel = cancel;
    this.restarted = restarted;
    this.runner = new PhaseRunner<>(ctx, record, phase, this);
    this.handover = new Handover(ctx, record, request.targetPool(), restarted, runner::note);
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
  public ColdPhase act(ColdPhase phase) {
    return switch (phase) {
      case PENDING -> {
        AgentVmStatus st = ctx.retrying(record.source, "status of vm " + record.vm,
            () -> ctx.agent(record.source).vm(record.vm));
        if (st.state() == VmState.STOPPED) yield ColdPhase.EXPORTING;
        if (!Boolean.TRUE.equals(request.shutdown())) {
          throw new ControllerException(Kind.CONFLICT, "vm '" + record.vm + "' is " + lower(st.state())
              + "; only a stopped vm migrates cold (stop it, or add --shutdown)");
        }
        yield ColdPhase.SHUTTING_DOWN;
      }
      case SHUTTING_DOWN -> {
        shutDown();
        yield cancel.get() ? ColdPhase.CANCELLING : ColdPhase.EXPORTING;
      }
      case EXPORTING -> {
        export();
        yield cancel.get() ? ColdPhase.CANCELLING : ColdPhase.COPYING;
      }
      case COPYING -> {
        if (!copy()) yield ColdPhase.CANCELLING;
        yield verify() ? ColdPhase.VERIFYING : ColdPhase.DEFINING;
      }
      case VERIFYING -> {
        String mismatch = handover.compareHashes(() -> ctx.agent(record.target).within(Handover.HASH_TIMEOUT)
            .targetHashes(record.id));
        if (mismatch != null) {
          record.verified = false;
          runner.note(mismatch);
          yield ColdPhase.CANCELLING;
        }
        record.verified = true;
        yield cancel.get() ? ColdPhase.CANCELLING : ColdPhase.DEFINING;
      }
      case DEFINING -> {
        definingFrom = ctx.clock().instant();
        defineAndTransfer();
        yield Boolean.TRUE.equals(request.start()) ? ColdPhase.STARTING : ColdPhase.RELEASING;
      }
      case STARTING -> {
        // a definingFrom of this runner: the hand-over was its own
        if (!TargetStart.start(ctx, record, runner::note, definingFrom != null)) {
          // the VM is the target's and stays there stopped: the source lets go as after a start
          release();
          startFailed = true;
          yield ColdPhase.DONE;
        }
        Instant running = ctx.clock().instant();
        record.downtimeMs = Duration.between(downFrom, running).toMillis();
        // what this VM's first warm cutover then predicts for its own define and start
        if (definingFrom != null) record.startMs = Duration.between(definingFrom, running).toMillis();
        yield ColdPhase.RELEASING;
      }
      case RELEASING -> {
        release();
        yield ColdPhase.DONE;
      }
      case CANCELLING -> rollBackSteps();
      case DONE, ROLLED_BACK -> phase;
    };
  }

  @Override
  public ColdPhase rollBack() {
    return ColdPhase.CANCELLING;
  }

  @Override
  public MigrationStatus end(ColdPhase last) {
    return switch (last) {
      case DONE -> startFailed ? MigrationStatus.FAILED : MigrationStatus.SUCCEEDED;
      case ROLLED_BACK -> record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
      case PENDING, SHUTTING_DOWN, EXPORTING, COPYING, VERIFYING, DEFINING, STARTING, RELEASING, CANCELLING ->
          throw new IllegalArgumentException("phase " + last.text() + " is not final");
    };
  }

  /**
   * ACPI power-off through the agent's power-down, which never forces: a guest that does not
   * power off within the timeout keeps running, and the migration fails before anything was
   * copied (a kill would lose the guest's page cache, and the user asked for a clean shutdown).
   */
  private void shutDown() {
    Duration timeout = request.shutdownTimeout() == null ? DEFAULT_SHUTDOWN
        : Durations.parsePositive("shutdown_timeout", request.shutdownTimeout());
    downFrom = ctx.shutdownRequested(record, runner.phase().text());
    AgentVmStatus st = ctx.retrying(record.source, "shutdown of vm " + record.vm,
        () -> ctx.agent(record.source).within(timeout.plusSeconds(30)).powerDown(record.vm, timeout));
    if (st.state() == VmState.CRASHED) {
      throw new ControllerException(Kind.CONFLICT, "the QEMU of vm '" + record.vm + "' on host '" + record.source
          + "' died before its guest powered off; nothing was copied");
    }
    if (st.state() != VmState.STOPPED) {
      throw new ControllerException(Kind.CONFLICT, "vm '" + record.vm + "' did not power off within "
          + timeout.toSeconds() + " s of the ACPI shutdown request; it keeps running on host '" + record.source
          + "', nothing was copied (retry with a longer --shutdown-timeout, or stop it yourself)");
    }
    // persisted with the record: a controller restarted into the rollback must know to boot the guest again
    record.shutdownMs = Duration.between(downFrom, ctx.clock().instant()).toMillis();
    LOG.info("migration {}: vm {} powered off in {} ms", record.id, record.vm, record.shutdownMs);
  }

  private ColdExport export() {
    ColdExport e = ctx.retrying(record.source, "export of vm " + record.vm,
        () -> ctx.agent(record.source).coldExport(record.vm, new ColdExportRequest(record.id, record.target)));
    LOG.info("migration {}: host {} exports vm {} at {}:{} ({})", record.id, record.source, record.vm, e.host(),
        e.port(), e.tls() ? "tls" : "plain");
    return e;
  }

  /** Starts (or finds) the target's pull and follows it; false when cancelled. */
  private boolean copy() {
    ColdCopyStatus s = copyStatus();
    if (s == null) {
      ColdExport e = export();
      List<ColdCopyRequest.Disk> disks = new ArrayList<>();
      for (String id : record.disks) {
        DiskRow d = ctx.disk(record.vm, id);
        disks.add(new ColdCopyRequest.Disk(id, handover.targetPool(d), request.format() != null ? request.format()
            : d.format()));
      }
      long bandwidth = request.bandwidthMibS() == null ? 0 : (long) (request.bandwidthMibS() * 1024 * 1024);
      var body = new ColdCopyRequest(record.vm, e, disks, bandwidth);
      s = ctx.retrying(record.target, "copy to host " + record.target,
          () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).coldCopy(record.id, body));
    }
    while (true) {
      record.copiedBytes = s.copiedBytes();
      record.skippedBytes = s.skippedBytes();
      progress.sample(s.copiedBytes(), Math.max(s.plannedBytes(), s.copiedBytes()), ctx.clock().instant());
      record.progress(progress);
      publishProgress(false);
      switch (s.state()) {
        case ColdCopyStatus.COPIED -> {
          LOG.info("migration {}: copied {} bytes, skipped {} (holes and zeroes)", record.id, s.copiedBytes(),
              s.skippedBytes());
          publishProgress(true);
          return true;
        }
        case ColdCopyStatus.FAILED -> throw new ControllerException(Kind.CONFLICT, "the copy to host '" + record.target
            + "' failed: " + s.error());
        case ColdCopyStatus.CANCELLED -> {
          return false;
        }
        default -> { }
      }
      if (cancel.get()) return false;
      ctx.sleep(POLL);
      s = ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target).coldCopyStatus(record.id));
    }
  }

  /** The target's copy, or null when the target has none for this migration. */
  private ColdCopyStatus copyStatus() {
    try {
      return ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target).coldCopyStatus(record.id));
    } catch (ControllerException e) {
      if (Handover.notFound(e)) return null;
      throw e;
    }
  }

  private void defineAndTransfer() {
    if (handover.ownedByTarget()) return; // a restart after the transaction
    ColdCopyStatus s = ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target).coldCopyStatus(record.id));
    // vm is now owned by the target host (inside: one transaction, never two owners, never none)
    handover.defineAndTransfer(s.disks());
    if (!Boolean.TRUE.equals(request.start())) {
      record.downtimeMs = Duration.between(downFrom, ctx.clock().instant()).toMillis();
    }
  }

  /** Past the point of no return: the source stops exporting and lets go; the target forgets its copy record. */
  private void release() {
    ctx.retrying(record.source, "stop of the export", () -> {
      ctx.agent(record.source).stopColdExport(record.vm);
      return null;
    });
    handover.releaseSource(Boolean.TRUE.equals(request.keepSource()));
    ctx.retrying(record.target, "forget the copy", () -> ctx.agent(record.target).forgetColdCopy(record.id));
  }

  /** Before the point of no return: the target forgets the VM and deletes the copies, the source stops exporting. */
  private ColdPhase rollBackSteps() {
    if (handover.ownedByTarget()) {
      runner.note("the cancel came after the ownership change; the migration rolled forward");
      return ColdPhase.RELEASING;
    }
    handover.removeTargetDefinition();
    ColdCopyStatus c = ctx.retrying(record.target, "removal of the copy",
        () -> ctx.agent(record.target).cancelColdCopy(record.id));
    record.copiedBytes = Math.max(record.copiedBytes, c.copiedBytes());
    ctx.retrying(record.source, "stop of the export", () -> {
      ctx.agent(record.source).stopColdExport(record.vm);
      return null;
    });
    VmState source = sourceState();
    if (source == VmState.CRASHED) runner.note(MigrationContext.leftCrashed(record));
    if (record.shutdownMs != null && source == VmState.STOPPED) {
      try {
        ctx.agent(record.source).within(Duration.ofSeconds(60)).start(record.vm);
      } catch (ControllerException e) {
        runner.note("vm '" + record.vm + "' was powered off for the migration and could not be started again: "
            + e.getMessage());
      }
    }
    LOG.info("migration {}: rolled back; nothing of vm {} is left on host {}", record.id, record.vm, record.target);
    return ColdPhase.ROLLED_BACK;
  }

  private VmState sourceState() {
    try {
      return ctx.retrying(record.source, "status of vm " + record.vm, () -> ctx.agent(record.source).vm(record.vm))
          .state();
    } catch (ControllerException e) {
      return null;
    }
  }

  private boolean verify() {
    return request.verify() == null || request.verify().equals("full");
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
