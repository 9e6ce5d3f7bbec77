package dev.ferry.controller.migration;

import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.PoolView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.VmRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * pre-copy rolls back ({@link Rollback}). Once post-copy started the target holds the newest pages
 * and a cancel is refused. From the target's resume on, the runner rolls forward: the owner in the
 * store changes to the target in one update (exactly one owner at every moment), then the source QEMU quits.
 */
final class LiveMigration implements Runnable {

  private static final Logger LOG = LoggerFactory.getLogger(LiveMigration.class);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final AtomicBoolean cancel;
  private final CompletableFuture<Void> prepared;
  private final boolean rollBackFirst;
  private LivePhase phase;
  private final TargetPreparation target;
  private final AgentWatch watch;
  private final LiveCopy copy;
  private final Rollback rollback;

  /**
   * @param prepared      completed once the target is ready or the runner ended; completed
   *                      exceptionally with the target agent's refusal, for the API to relay
   * @param rollBackFirst a recovered migration that must be rolled back before anything else
   */
  LiveMigration(MigrationContext ctx, MigrationRecord record, LiveMigrationRequest request, LivePhase phase,
      AtomicBoolean cancel, CompletableFuture<Void> prepared, boolean rollBackFirst) {
    this.ctx = ctx;
    this.record = record;
    LiveOptions options = LiveOptions.validate(request);
    this.phase = phase;
    this.cancel = cancel;
    this.prepared = prepared;
    this.rollBackFirst = rollBackFirst;
    Convergence convergence = new Convergence(options);
    this.target = new TargetPreparation(ctx, record, options);
    this.watch = new AgentWatch(ctx, record, convergence);
    this.copy = new LiveCopy(ctx, record, options, cancel, convergence, watch, target);
    this.rollback = new Rollback(ctx, record, watch);
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
            target.prepare();
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
        case MIGRATING -> advance(copy.migrate());
        case SWITCHOVER -> advance(copy.awaitCompleted());
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
          if (rollback.rollBack()) {
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

  // ---- RESUMING_TARGET, TRANSFERRING

  private void resumeTarget() {
    IncomingStatus st = watch.targetStatus();
    if (st != null && "finished".equals(st.phase())) return;
    // point of no return: the target's guest runs from here; the source keeps a paused copy until complete
    ctx.retrying(record.target, "resume of the target", () -> ctx.agents().call(ctx.host(record.target), "POST",
        record.vmPath() + "/incoming/finish", null, IncomingStatus.class, TargetPreparation.PREPARE_TIMEOUT));
    LOG.info("migration {}: vm {} resumed on host {}", record.id, record.vm, record.target);
  }

  private void transfer() {
    VmRow vm = ctx.store().vms().find(record.vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
        "vm '" + record.vm + "' is not in the store any more"));
    if (!vm.host().equals(record.target)) {
      List<DiskRow> moved = new ArrayList<>();
      for (String id : record.disks) {
        DiskRow d = ctx.disk(record.vm, id);
        String pool = target.pool(d);
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
        ctx.host(record.source), record.vmPath() + "/outgoing/complete?delete_source_images=" + copied, null,
        MigrationStats.class));
    if (fin != null && record.id.equals(fin.migrationId())) watch.observe(fin, LivePhase.TRANSFERRING);
    copy.applyFinal();
  }

  private void finishAfterError(RuntimeException e) {
    String why = e.getMessage() == null ? e.toString() : e.getMessage();
    try {
      if (phase == LivePhase.DONE || phase == LivePhase.ROLLED_BACK) return;
      // post-copy passed the point of no return at the switch: the target holds the newest pages
      if (phase.beforePointOfNoReturn() && !record.postcopy) {
        record.reason = record.reason == null ? why : record.reason + "; " + why;
        if (!rollback.rollBack()) rollback.note("the vm may be paused on host '" + record.source
            + "' with its state on host '" + record.target + "'; resolve by hand");
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
    if (status == MigrationStatus.SUCCEEDED) copy.applyFinal();
    record.end(status, ctx.clock().instant());
    advance(end);
    LOG.info("migration {}: vm {} {} in {} ms{}", record.id, record.vm, status.name().toLowerCase(java.util.Locale.ROOT),
        record.view().totalMs(), record.reason == null ? "" : " (" + record.reason + ")");
    ctx.events().publish("migration.done", record.id, record.view());
  }
}
