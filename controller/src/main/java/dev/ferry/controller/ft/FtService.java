package dev.ferry.controller.ft;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.FtEnableRequest;
import dev.ferry.api.FtStatusView;
import dev.ferry.api.Json;
import dev.ferry.api.Names;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.FtPrimaryStatus;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.FtRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ft enable | status | disable} (issue 12). Enable checks everything first
 * ({@link FtPreflight}: a refusal changes nothing), records the protection in phase
 * {@link FtPhase#PREPARING}, and hands it to an {@link FtRunner} on its own thread; the answer
 * does not wait for protection (the CLI follows the status). Disable takes the phase to
 * {@link FtPhase#DISABLING} by compare-and-set (a running enable sees it and stops), waits for
 * that runner, then ends COLO on the primary and removes the secondary. A restarted controller
 * picks every protection up where its phase says ({@link #recover}).
 */
public final class FtService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FtService.class);
  /** how long a status waits for the primary's agent before showing the last figures it recorded */
  static final Duration STATUS_CALL = Duration.ofSeconds(2);
  /** how long a disable waits for the enable's runner to stop (its agent calls have deadlines of their own) */
  static final Duration RUNNER_STOP = Duration.ofSeconds(100);

  private final Store store;
  private final FtRunner.Context ctx;
  private final FtPreflight preflight;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "ferry-ft");
    t.setDaemon(true);
    return t;
  });
  /** the runner of each VM and the latch it releases when it has stopped acting */
  private record Running(Future<?> future, java.util.concurrent.CountDownLatch done) {}

  private final Map<String, Running> runners = new ConcurrentHashMap<>();

  public FtService(Store store, HostRegistry hosts, AgentClient agents, EventBus events, InstantSource clock) {
    this.store = store;
    this.ctx = new FtRunner.Context(store, hosts, agents, events, clock, FtRunner::sleep);
    this.preflight = new FtPreflight(store, hosts);
  }

  FtService(FtRunner.Context ctx) {
    this.store = ctx.store();
    this.ctx = ctx;
    this.preflight = new FtPreflight(ctx.store(), ctx.hosts());
  }

  public FtStatusView enable(FtEnableRequest r) {
    FtRow row;
    if (r != null && r.vm() != null) refreshPaused(r.vm());
    synchronized (this) {
      FtPreflight.Plan plan = preflight.check(r);
      Instant now = ctx.clock().instant();
      var rec = new FtRecord();
      rec.reprotect = r.reprotect() == null || r.reprotect();
      row = new FtRow(plan.vm().name(), FtPhase.PREPARING.text(), plan.primary().name(), plan.secondary().name(),
          plan.intervalMs(), json(rec), now, now);
      // a failed enable's row is replaced by the new attempt
      store.ft().find(row.vm()).filter(old -> !FtPhase.of(old.phase()).guards())
          .ifPresent(old -> store.ft().delete(old.vm(), old.phase()));
      if (!store.ft().insert(row)) {
        throw ControllerException.conflict("vm", row.vm(), "vm '" + row.vm() + "' is already under fault tolerance");
      }
    }
    LOG.info("ft: vm {} enable, primary {}, secondary {}, checkpoints every {} ms", row.vm(), row.primaryHost(),
        row.secondaryHost(), row.checkpointIntervalMs());
    FtStatusView v = view(row, false);
    ctx.events().publish("ft.state", row.vm(), v);
    launch(row.vm());
    return v;
  }

  /**
   * The stored state is the agent's last heartbeat: right after an {@code ft disable} it may still
   * show one of the checkpoints' pauses, and the preflight would refuse a running VM as paused. A
   * paused VM is asked about once more, live; unreachable, the stored state stands.
   */
  private void refreshPaused(String name) {
    VmRow v = store.vms().find(name).orElse(null);
    if (v == null || v.state() != VmState.PAUSED) return;
    try {
      AgentVmStatus live = ctx.agent(v.host()).within(STATUS_CALL).vm(name);
      if (live.state() != null && live.state() != v.state()) store.vms().update(v.with(live));
    } catch (RuntimeException e) {
      LOG.debug("ft: vm {}: its live state could not be read ({}); the stored one stands", name, e.getMessage());
    }
  }

  public FtStatusView status(String vm) {
    return view(require(vm), true);
  }

  public List<FtStatusView> list() {
    return store.ft().all().stream().map(r -> view(r, true)).toList();
  }

  /** Back to a plain VM on the primary, the secondary removed; returns once done. */
  public void disable(String vm) {
    FtRow row = require(vm);
    FtPhase phase = FtPhase.of(row.phase());
    if (phase != FtPhase.DISABLING) {
      if (!phase.canMoveTo(FtPhase.DISABLING)) {
        throw ControllerException.conflict("vm", vm, "vm '" + vm + "': fault tolerance is " + phase.state()
            + " (phase " + phase.text() + "), which ends by itself; try again in a moment");
      }
      if (!store.ft().advance(vm, row.phase(), FtPhase.DISABLING.text(), row.record(), ctx.clock().instant())) {
        throw ControllerException.conflict("vm", vm, "vm '" + vm + "': fault tolerance changed phase meanwhile; try again");
      }
      LOG.info("ft: vm {} {} -> disabling", vm, phase.text());
    }
    Running before = runners.remove(vm);
    if (before != null) {
      // the enable's runner must not call an agent after the teardown below began
      before.future().cancel(true);
      try {
        if (!before.done().await(RUNNER_STOP.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.warn("ft: vm {}: the previous runner did not stop within {} ms", vm, RUNNER_STOP.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ControllerException(ControllerException.Kind.INTERNAL, "interrupted while disabling vm '" + vm + "'", e);
      }
    }
    new FtRunner(ctx, vm).run();
  }

  /** how long {@code ft failover} waits for the takeover */
  static final Duration FAILOVER_WAIT = Duration.ofSeconds(90);

  /**
   * {@code ft failover}: a planned switch to the secondary (e.g. before maintenance of the primary's
   * host). Recorded as phase failing_over; the runner fences the primary, then the secondary takes
   * over and becomes the owner. Returns once the VM runs on the secondary; 409 when it is not
   * protected, or when the primary could not be fenced (nothing changed then: still protected).
   */
  public FtStatusView failover(String vm) {
    FtRow row = require(vm);
    FtPhase phase = FtPhase.of(row.phase());
    if (phase == FtPhase.PROTECTED) {
      FtRecord rec = record(row);
      var f = new FtRecord.Pending();
      f.cause = "planned (ferry ft failover)";
      f.planned = true;
      Instant now = ctx.clock().instant();
      f.failureAt = now;
      f.detectedAt = now;
      rec.pending = f;
      if (!store.ft().advance(vm, row.phase(), FtPhase.FAILING_OVER.text(), json(rec), now)) {
        throw ControllerException.conflict("vm", vm, "vm '" + vm + "': fault tolerance changed phase meanwhile; try again");
      }
      LOG.info("ft: vm {} protected -> failing_over (planned, to {})", vm, row.secondaryHost());
      FtRow moved = store.ft().find(vm).orElseThrow();
      ctx.events().publish("ft.state", vm, view(moved, rec));
      Running r = runners.get(vm);
      if (r == null || r.future().isDone()) launch(vm);
    } else if (phase != FtPhase.FAILING_OVER) {
      throw ControllerException.conflict("vm", vm, "vm '" + vm + "': fault tolerance is " + phase.state() + " (phase "
          + phase.text() + "); only a protected vm can fail over to its secondary");
    }
    long until = System.nanoTime() + FAILOVER_WAIT.toNanos();
    while (true) {
      FtRow now = require(vm);
      FtPhase p = FtPhase.of(now.phase());
      if (p != FtPhase.FAILING_OVER) {
        FtStatusView v = view(now, false);
        if (p == FtPhase.PROTECTED) {
          throw ControllerException.conflict("vm", vm, "vm '" + vm + "' did not fail over and stays protected on "
              + now.primaryHost() + ": " + v.reason());
        }
        return v;
      }
      if (System.nanoTime() > until) {
        throw ControllerException.conflict("vm", vm, "vm '" + vm + "' is still failing over after "
            + FAILOVER_WAIT.toSeconds() + " s; follow it with ferry ft status " + vm);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ControllerException(ControllerException.Kind.INTERNAL, "interrupted while failing over vm '" + vm + "'", e);
      }
    }
  }

  /** Picks up every protection a previous controller left; one exhaustive switch decides. */
  public void recover() {
    for (FtRow row : store.ft().all()) {
      FtPhase phase = FtPhase.of(row.phase());
      String why = switch (phase) {
        case PREPARING -> "building the secondary is idempotent: its agent answers the one it built";
        case SYNCING -> "protect is idempotent on the primary: it reports the sync or COLO under way";
        case PROTECTED -> "COLO runs in the QEMUs; the controller only watched it";
        case FAILING_OVER -> "finish the failover: before the takeover was asked a planned one fences the primary"
            + " again (idempotent), after it the secondary is asked again (idempotent on its agent)";
        case UNPROTECTED -> "one host runs the vm alone; an old primary's stale copy is removed once its agent answers,"
            + " and a new secondary is built once a host is eligible (unless --no-reprotect)";
        case ROLLING_BACK -> "the enable (or a re-protection) failed before protection: finish taking the secondary down";
        case FAILED -> "nothing runs: the last enable failed and was rolled back";
        case DISABLING -> "finish ending COLO and removing the secondary";
      };
      LOG.info("ft: recovering vm {} in phase {}: {}", row.vm(), phase.text(), why);
      if (phase != FtPhase.FAILED) launch(row.vm());
    }
  }

  private void launch(String vm) {
    var done = new java.util.concurrent.CountDownLatch(1);
    runners.put(vm, new Running(threads.submit(() -> {
      try {
        new FtRunner(ctx, vm).run();
      } catch (RuntimeException e) {
        LOG.error("ft: runner of vm {} ended: {}", vm, e.toString(), e);
      } finally {
        done.countDown();
      }
    }), done));
  }

  private FtRow require(String vm) {
    if (!Names.valid(vm)) throw ControllerException.invalid("vm", vm, Names.RULE);
    return store.ft().find(vm).orElseThrow(() -> ControllerException.notFound("vm", vm,
        "vm '" + vm + "' is not under fault tolerance" + (store.vms().find(vm).isEmpty() ? " (no such vm)" : ""), null));
  }

  /** The row as shown; {@code live}: a protected VM's checkpoint figures fresh from its primary's agent. */
  FtStatusView view(FtRow row, boolean live) {
    FtRecord rec = record(row);
    FtPhase phase = FtPhase.of(row.phase());
    if (live && phase == FtPhase.PROTECTED) {
      try {
        FtPrimaryStatus st = ctx.agent(row.primaryHost()).within(STATUS_CALL).ftStatus(row.vm());
        FtRunner.take(rec, st);
      } catch (RuntimeException e) {
        LOG.debug("ft: vm {}: status from {} failed, showing the last recorded: {}", row.vm(), row.primaryHost(),
            e.getMessage());
      }
    }
    return view(row, rec);
  }

  static FtStatusView view(FtRow row, FtRecord rec) {
    FtPhase phase = FtPhase.of(row.phase());
    boolean syncing = phase == FtPhase.PREPARING || phase == FtPhase.SYNCING;
    String state = syncing && rec.reprotecting ? "reprotecting" : phase.state();
    return new FtStatusView(row.vm(), state, phase.text(), row.primaryHost(),
        phase == FtPhase.FAILED || phase == FtPhase.UNPROTECTED ? null : row.secondaryHost(), row.checkpointIntervalMs(),
        rec.checkpoints, new FtStatusView.Pause(rec.pauseMedianMs, rec.pauseMaxMs), rec.lastCheckpointAt,
        syncing ? rec.syncedBytes : null, syncing ? rec.syncTotalBytes : null, rec.enablePauseMs,
        List.copyOf(rec.failovers), rec.reason, rec.since != null ? rec.since : row.created(), rec.reprotect,
        List.copyOf(rec.reprotections));
  }

  static FtRecord record(FtRow row) {
    try {
      return Json.mapper().readValue(row.record(), FtRecord.class);
    } catch (IOException e) {
      throw new ControllerException(ControllerException.Kind.INTERNAL, "ft record of vm '" + row.vm() + "' is unreadable",
          e);
    }
  }

  static String json(FtRecord rec) {
    try {
      return Json.mapper().writeValueAsString(rec);
    } catch (JsonProcessingException e) {
      throw new ControllerException(ControllerException.Kind.INTERNAL, "cannot encode an ft record", e);
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
