package dev.ferry.controller.migration;

import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.PoolView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.VmRow;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The steps of a live migration's {@link LivePhase}s, driving the target agent ({@code incoming})
 * and the source agent ({@code outgoing}); the {@link PhaseRunner} records each phase before its
 * step and applies the phase's own rules on failure and after a controller restart. Every step
 * observes before it acts (the agents answer a repeated request with what they already did).
 *
 * <p>Before the point of no return any failure, a cancel, a timeout, a stalled stream or a stuck
 * pre-copy rolls back ({@link Rollback}), and a rollback that cannot tell what the source did keeps
 * both sides and tries again. Once post-copy is recorded the target holds the newest pages: the
 * source is never resumed nor cancelled, and a lost side ends the migration as {@link LivePhase#LOST}.
 * From the target's resume on, the runner rolls forward: the owner in the store changes to the
 * target in one update (exactly one owner at every moment), then the source QEMU quits.
 */
final class LiveMigration implements Runnable, PhaseRunner.Steps<LivePhase> {

  private static final Logger LOG = LoggerFactory.getLogger(LiveMigration.class);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final AtomicBoolean cancel;
  private final CompletableFuture<Void> prepared;
  private final boolean restarted;
  private final PhaseRunner<LivePhase> runner;
  private final TargetPreparation target;
  private final AgentWatch watch;
  private final LiveCopy copy;
  private final Rollback rollback;
  private final RunPrediction prediction;

  /**
   * @param prepared  completed once the target is ready or the runner ended; completed
   *                  exceptionally with the target agent's refusal, for the API to relay
   * @param restarted a migration a previous controller left running: its phase's recovery rule applies first
   */
  LiveMigration(MigrationContext ctx, MigrationRecord record, LiveOptions options, LivePhase phase,
      AtomicBoolean cancel, CompletableFuture<Void> prepared, boolean restarted) {
    this.ctx = ctx;
    this.record = record;
    this.cancel = cancel;
    this.prepared = prepared;
    this.restarted = restarted;
    Convergence convergence = new Convergence(options);
    this.target = new TargetPreparation(ctx, record, options);
    this.prediction = new RunPrediction(ctx, record, options);
    this.watch = new AgentWatch(ctx, record, convergence);
    this.copy = new LiveCopy(ctx, record, options, cancel, convergence, watch, target, prediction);
    this.rollback = new Rollback(ctx, record, watch);
    this.runner = new PhaseRunner<>(ctx, record, phase, this);
  }

  @Override
  public void run() {
    MDC.put("migration", record.id);
    MDC.put("vm", record.vm);
    try {
      if (restarted) {
        LivePhase phase = runner.phase();
        if (phase.recovery().action() == MigrationPhase.Recovery.Action.ROLL_BACK && !cancel.get()) {
          record.reason = "the controller restarted in phase " + phase.text()
              + ", before the point of no return: rolled back; the vm runs on host '" + record.source + "'";
        }
        runner.recover();
      } else {
        runner.run();
      }
    } catch (RuntimeException e) {
      if (Thread.currentThread().isInterrupted()) {
        // the controller is stopping: leave the persisted phase to the next controller's recovery
        LOG.info("migration {} of vm {}: controller stopping, left in phase {} for recovery", record.id, record.vm,
            runner.phase().text());
        return;
      }
      // only the phase record itself can fail here (someone else moved the migration): leave it to them
      LOG.error("migration {} of vm {}: runner stopped in phase {}", record.id, record.vm, runner.phase().text(), e);
    } finally {
      prepared.complete(null);
      MDC.clear();
    }
  }

  @Override
  public LivePhase act(LivePhase phase) {
    return switch (phase) {
      case PENDING -> cancel.get() ? LivePhase.CANCELLING : LivePhase.PREPARING_TARGET;
      case PREPARING_TARGET -> prepareTarget();
      case MIGRATING -> copy.migrate();
      case POSTCOPY -> copy.postcopy();
      case SWITCHOVER -> copy.awaitCompleted();
      case RESUMING_TARGET -> resumeTarget();
      case TRANSFERRING -> {
        transfer();
        yield LivePhase.DONE;
      }
      case CANCELLING -> rollback.rollBack();
      case DONE, ROLLED_BACK, LOST -> phase;
    };
  }

  @Override
  public LivePhase rollBack() {
    return LivePhase.CANCELLING;
  }

  @Override
  public MigrationStatus end(LivePhase last) {
    return switch (last) {
      case DONE -> MigrationStatus.SUCCEEDED;
      case ROLLED_BACK -> record.reason == null ? MigrationStatus.CANCELLED : MigrationStatus.FAILED;
      case LOST -> MigrationStatus.FAILED;
      case PENDING, PREPARING_TARGET, MIGRATING, POSTCOPY, SWITCHOVER, RESUMING_TARGET, TRANSFERRING, CANCELLING ->
          throw new IllegalArgumentException("phase " + last.text() + " is not final");
    };
  }

  @Override
  public void finishing(LivePhase last) {
    if (last == LivePhase.DONE) copy.applyFinal();
  }

  // ---- PREPARING_TARGET

  private LivePhase prepareTarget() {
    if (cancel.get()) return LivePhase.CANCELLING;
    // measured while the target QEMU starts (or a dry run's just before): never delays the migration
    prediction.start();
    try {
      target.prepare();
    } catch (ControllerException e) {
      if (e.kind() != Kind.AGENT_REJECTED) throw e;
      record.reason = "host '" + record.target + "' refused to receive vm '" + record.vm + "': " + e.getMessage();
      prepared.completeExceptionally(e);
      return LivePhase.CANCELLING;
    }
    prepared.complete(null);
    return cancel.get() ? LivePhase.CANCELLING : LivePhase.MIGRATING;
  }

  // ---- RESUMING_TARGET, TRANSFERRING

  private LivePhase resumeTarget() {
    // a migration shorter than the measurement: its last chance while the source QEMU still runs
    prediction.poll();
    prediction.lastChance();
    IncomingStatus st = watch.targetStatus();
    record.announced(st);
    if (st != null && st.phase() == IncomingPhase.FINISHED) return LivePhase.TRANSFERRING;
    if (watch.targetDiedUnresumed()) return giveBackToTheSource();
    // point of no return: the target's guest runs from here; the source keeps a paused copy until complete
    try {
      record.announced(ctx.retrying(record.target, "resume of the target",
          () -> ctx.agent(record.target).within(TargetPreparation.PREPARE_TIMEOUT).finishIncoming(record.vm)));
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && watch.targetDiedUnresumed()) return giveBackToTheSource();
      throw e;
    }
    LOG.info("migration {}: vm {} resumed on host {}", record.id, record.vm, record.target);
    return LivePhase.TRANSFERRING;
  }

  /** The target's QEMU died before its guest ran: the rollback resumes the source's complete copy. */
  private LivePhase giveBackToTheSource() {
    rollback.note("the target qemu on host '" + record.target + "' died before the guest ever ran there; the guest"
        + " resumes on host '" + record.source + "'");
    return LivePhase.CANCELLING;
  }

  private void transfer() {
    // the source QEMU quits below: the prediction's measurement cannot be read after that
    prediction.poll();
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
    MigrationStats fin = ctx.retrying(record.source, "completion on the source",
        () -> ctx.agent(record.source).completeOutgoing(record.vm, copied));
    if (fin != null && record.id.equals(fin.migrationId())) watch.observe(fin, LivePhase.TRANSFERRING);
    copy.applyFinal();
  }
}
