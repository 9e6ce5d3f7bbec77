package dev.ferry.controller.migration;

import dev.ferry.api.ColdMigrationRequest;
import dev.ferry.api.Durations;
import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationPrediction;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.api.MigrationPlan;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.Names;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import dev.ferry.api.rules.Spelling;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingUnlock;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.MigrationRow;
import dev.ferry.controller.store.MigrationStore;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, lists, cancels and recovers migrations. Each migration runs on a virtual thread of its
 * own; its phase and record live in the store, so a restarted controller picks it up again
 * ({@link #recover}).
 */
public final class MigrationService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MigrationService.class);
  static final Duration AGENT_GRACE = agentGrace(System.getenv("FERRY_TEST_AGENT_GRACE"));
  /** how long POST /api/migrations/live waits for the target agent, so that its refusal reaches the caller */
  static final Duration TARGET_WAIT = Duration.ofSeconds(20);

  private final MigrationContext ctx;
  private final Admission admission;
  private final ExecutorService runners = Executors.newThreadPerTaskExecutor(
      Thread.ofVirtual().name("migration-", 0).factory());
  private final Map<String, AtomicBoolean> cancels = new ConcurrentHashMap<>();
  /** warm migrations: a manual cutover was asked for (the runner takes it between passes) */
  private final Map<String, AtomicBoolean> cutovers = new ConcurrentHashMap<>();
  /** completed when the migration's runner in this controller ended (final phase, or stopped) */
  private final Map<String, CompletableFuture<Void>> runnerEnded = new ConcurrentHashMap<>();
  private final Map<String, Future<?>> runnerTasks = new ConcurrentHashMap<>();
  /** how long a cancel waits for the rollback, so that its answer says what happened (the CLI waits longer) */
  static final Duration CANCEL_WAIT = Duration.ofSeconds(15);
  /** how long an unlock waits for the source agent: the host may be the one lost for good */
  static final Duration UNLOCK_AGENT_WAIT = Duration.ofSeconds(5);

  /** {@code maxPerHost}: how many migrations a host may take part in before a live migration touching it is refused. */
  public MigrationService(Store store, HostRegistry hosts, AgentClient agents, EventBus events, InstantSource clock,
      int maxPerHost) {
    this.ctx = new MigrationContext(store, hosts, agents, events, clock, AGENT_GRACE);
    this.admission = new Admission(ctx, maxPerHost);
  }

  /**
   * How long a migration rides out an agent that does not answer before it says stuck (past the
   * point of no return) or gives up: 60 s. A test hook like the agent's fault points: a
   * real-process test that must wait the grace out (a killed agent left down) sets
   * {@code FERRY_TEST_AGENT_GRACE} shorter in the controller's environment instead of sleeping a
   * minute; a real controller never has it set. A malformed value stops the controller.
   */
  static Duration agentGrace(String hook) {
    return hook == null || hook.isBlank() ? Duration.ofSeconds(60)
        : Durations.parsePositive("FERRY_TEST_AGENT_GRACE", hook);
  }

  public MigrationView startStorage(StorageMigrationRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a storage migration request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    VmRow vm = ctx.store().vms().find(r.vm()).orElseThrow(() -> ControllerException.notFound("vm", r.vm(),
        "vm '" + r.vm() + "' is not known", null));
    dev.ferry.controller.ft.FtGuard.requireUnprotected(ctx.store(), vm.name(), "migrate");
    try {
      MigrationRules.checkStorage(r, Spelling.API);
    } catch (RuleViolation v) {
      throw ControllerException.invalid(v.field(), v.value(), v.allowed(), v.getMessage());
    }
    if (ctx.store().pools().onHost(vm.host()).stream().noneMatch(p -> p.name().equals(r.toPool()))) {
      throw ControllerException.notFound("to_pool", r.toPool(),
          "pool '" + r.toPool() + "' does not exist on host '" + vm.host() + "', where vm '" + vm.name() + "' runs", null);
    }
    List<DiskRow> disks = ctx.store().vms().disks(vm.name());
    List<String> ids = chooseDisks(r, vm, disks);
    if (vm.state() != VmState.RUNNING && vm.state() != VmState.PAUSED && vm.state() != VmState.STOPPED) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is " + text(vm.state())
          + "; its disks can move while it runs or when it is stopped");
    }
    ctx.hosts().requireOnline("vm", vm.host());
    synchronized (this) {
      admission.requireNoOtherMigration(vm.name());
      // a storage migration loads its host's disks and CPU like a live one: the same limit
      admission.requireHostCapacity(vm.name(), Admission.fields(vm.host(), vm.host()));
      var rec = new MigrationRecord();
      rec.id = UUID.randomUUID().toString();
      rec.kind = "storage";
      rec.vm = vm.name();
      rec.source = vm.host();
      rec.target = vm.host();
      rec.phase = StoragePhase.PENDING.text();
      rec.startedAt = ctx.clock().instant();
      rec.disks = ids;
      Instant now = rec.startedAt;
      record(rec, json(r), now);
      LOG.info("migration {}: storage migration of vm {} disks {} to pool {} on host {}", rec.id, vm.name(), ids,
          r.toPool(), vm.host());
      ctx.events().publish("migration.phase", rec.id, ctx.view(rec));
      launch(rec, r, StoragePhase.PENDING, false);
      return ctx.view(rec);
    }
  }

  /**
   * Preflight for a cold migration (every refusal names its field), then records it and starts its
   * runner. A running VM is refused unless {@code shutdown}; disks go to {@code target_pool} or a
   * pool of the same name on the target. The target's QEMU must offer the VM's machine type (as its
   * heartbeat reports them).
   */
  public MigrationView startCold(ColdMigrationRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a cold migration request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    if (!Names.valid(r.to())) throw ControllerException.invalid("to", r.to(), "the name of a host: " + Names.RULE);
    if (r.format() != null && !List.of("qcow2", "raw").contains(r.format())) {
      throw ControllerException.invalid("format", r.format(), "qcow2 or raw");
    }
    if (r.verify() != null && !List.of("full", "none").contains(r.verify())) {
      throw ControllerException.invalid("verify", r.verify(), "full or none");
    }
    if (r.bandwidthMibS() != null && !(r.bandwidthMibS() > 0)) {
      throw ControllerException.invalid("bandwidth_mib_s", r.bandwidthMibS(), "a positive number of MiB/s");
    }
    if (r.shutdownTimeout() != null) {
      try {
        Durations.parsePositive("shutdown_timeout", r.shutdownTimeout());
      } catch (IllegalArgumentException e) {
        throw ControllerException.invalid("shutdown_timeout", r.shutdownTimeout(), "a duration such as 90s or 2m");
      }
    }
    VmRow vm = ctx.store().vms().find(r.vm()).orElseThrow(() -> ControllerException.notFound("vm", r.vm(),
        "vm '" + r.vm() + "' is not known", null));
    var target = ctx.hosts().require("to", r.to());
    if (target.name().equals(vm.host())) {
      throw ControllerException.conflict("to", r.to(), "vm '" + vm.name() + "' is already on host '" + r.to()
          + "'; name another host");
    }
    if (vm.state() != VmState.STOPPED && !Boolean.TRUE.equals(r.shutdown())) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is " + text(vm.state())
          + "; only a stopped vm migrates cold (stop it, or add --shutdown)");
    }
    var source = ctx.hosts().requireOnline("vm", vm.host());
    ctx.hosts().requireOnline("to", target.name());
    List<DiskRow> disks = ColdPreflight.requireTarget(ctx, vm, source, target, r.targetPool());
    synchronized (this) {
      admission.requireNoOtherMigration(vm.name());
      admission.requireHostCapacity(vm.name(), Admission.fields(source.name(), target.name()));
      var rec = new MigrationRecord();
      rec.id = UUID.randomUUID().toString();
      rec.kind = "cold";
      rec.vm = vm.name();
      rec.source = source.name();
      rec.target = target.name();
      rec.phase = ColdPhase.PENDING.text();
      rec.startedAt = ctx.clock().instant();
      rec.disks = disks.stream().map(DiskRow::id).toList();
      record(rec, json(r), rec.startedAt);
      LOG.info("migration {}: cold migration of vm {} from host {} to host {}, disks {}", rec.id, vm.name(),
          source.name(), target.name(), rec.disks);
      ctx.events().publish("migration.phase", rec.id, ctx.view(rec));
      launchCold(rec, r, ColdPhase.PENDING, false);
      return ctx.view(rec);
    }
  }

  private void launchCold(MigrationRecord rec, ColdMigrationRequest r, ColdPhase phase, boolean restarted) {
    AtomicBoolean cancel = cancels.computeIfAbsent(rec.id, k -> new AtomicBoolean());
    CompletableFuture<Void> ended = new CompletableFuture<>();
    runnerEnded.put(rec.id, ended);
    runnerTasks.put(rec.id, runners.submit(() -> {
      try {
        new ColdMigration(ctx, rec, r, phase, cancel, restarted).run();
      } finally {
        cancels.remove(rec.id);
        ended.complete(null);
        runnerEnded.remove(rec.id, ended);
        runnerTasks.remove(rec.id);
      }
    }));
  }

  /**
   * Preflight for a warm migration (every refusal names its field), then records it and starts its
   * runner. Only a running VM migrates warm; disks go to {@code target_pool} or a pool of the same
   * name on the target; the cutover rule and durations are checked here, never later.
   */
  public MigrationView startWarm(dev.ferry.api.WarmMigrationRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a warm migration request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    if (!Names.valid(r.to())) throw ControllerException.invalid("to", r.to(), "the name of a host: " + Names.RULE);
    if (r.format() != null && !List.of("qcow2", "raw").contains(r.format())) {
      throw ControllerException.invalid("format", r.format(), "qcow2 or raw");
    }
    if (r.bandwidthMibS() != null && !(r.bandwidthMibS() > 0)) {
      throw ControllerException.invalid("bandwidth_mib_s", r.bandwidthMibS(), "a positive number of MiB/s");
    }
    if (r.maxDowntimeMs() != null && r.maxDowntimeMs() <= 0) {
      throw ControllerException.invalid("max_downtime_ms", r.maxDowntimeMs(), "a positive number of milliseconds");
    }
    if (r.cutover() != null && !r.cutover().equals("manual") && !r.cutover().equals("auto")) {
      boolean at = r.cutover().startsWith("at:");
      try {
        if (at) java.time.Instant.parse(r.cutover().substring(3));
      } catch (java.time.format.DateTimeParseException e) {
        at = false;
      }
      if (!at) {
        throw ControllerException.invalid("cutover", r.cutover(),
            "manual, auto or at:TIME with an ISO-8601 instant such as at:2026-12-05T22:00:00Z");
      }
    }
    for (var d : java.util.Map.of("shutdown_timeout", java.util.Optional.ofNullable(r.shutdownTimeout()),
        "sync_interval", java.util.Optional.ofNullable(r.syncInterval())).entrySet()) {
      if (d.getValue().isEmpty()) continue;
      try {
        Durations.parsePositive(d.getKey(), d.getValue().get());
      } catch (IllegalArgumentException e) {
        throw ControllerException.invalid(d.getKey(), d.getValue().get(), "a duration such as 90s or 2m");
      }
    }
    VmRow vm = ctx.store().vms().find(r.vm()).orElseThrow(() -> ControllerException.notFound("vm", r.vm(),
        "vm '" + r.vm() + "' is not known", null));
    var target = ctx.hosts().require("to", r.to());
    if (target.name().equals(vm.host())) {
      throw ControllerException.conflict("to", r.to(), "vm '" + vm.name() + "' is already on host '" + r.to()
          + "'; name another host");
    }
    if (vm.state() != VmState.RUNNING) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is " + text(vm.state())
          + "; only a running vm migrates warm (a stopped one migrates cold)");
    }
    var source = ctx.hosts().requireOnline("vm", vm.host());
    ctx.hosts().requireOnline("to", target.name());
    List<DiskRow> disks = ColdPreflight.requireTarget(ctx, vm, source, target, r.targetPool());
    synchronized (this) {
      admission.requireNoOtherMigration(vm.name());
      admission.requireHostCapacity(vm.name(), Admission.fields(source.name(), target.name()));
      var rec = new MigrationRecord();
      rec.id = UUID.randomUUID().toString();
      rec.kind = "warm";
      rec.vm = vm.name();
      rec.source = source.name();
      rec.target = target.name();
      rec.phase = WarmPhase.PENDING.text();
      rec.startedAt = ctx.clock().instant();
      rec.disks = disks.stream().map(DiskRow::id).toList();
      record(rec, json(r), rec.startedAt);
      LOG.info("migration {}: warm migration of vm {} from host {} to host {}, disks {}, cutover {}", rec.id,
          vm.name(), source.name(), target.name(), rec.disks, r.cutover() == null ? "manual" : r.cutover());
      ctx.events().publish("migration.phase", rec.id, ctx.view(rec));
      launchWarm(rec, r, WarmPhase.PENDING, false);
      return ctx.view(rec);
    }
  }

  private void launchWarm(MigrationRecord rec, dev.ferry.api.WarmMigrationRequest r, WarmPhase phase,
      boolean restarted) {
    AtomicBoolean cancel = cancels.computeIfAbsent(rec.id, k -> new AtomicBoolean());
    AtomicBoolean cutover = cutovers.computeIfAbsent(rec.id, k -> new AtomicBoolean());
    CompletableFuture<Void> ended = new CompletableFuture<>();
    runnerEnded.put(rec.id, ended);
    runnerTasks.put(rec.id, runners.submit(() -> {
      try {
        new WarmMigration(ctx, rec, r, phase, cancel, cutover, restarted).run();
      } finally {
        cancels.remove(rec.id);
        cutovers.remove(rec.id);
        ended.complete(null);
        runnerEnded.remove(rec.id, ended);
        runnerTasks.remove(rec.id);
      }
    }));
  }

  /**
   * Begins a warm migration's cutover now (its {@code cutover} rule notwithstanding); 409 for
   * another kind, a migration that ended, or one whose cutover began already. Answers at once:
   * the runner takes the request at its next look (within a poll, or when the pass under way ends).
   */
  public MigrationView cutover(String id) {
    MigrationRow m = require(id);
    if (!m.kind().equals("warm")) {
      throw ControllerException.conflict("id", id, "migration " + id + " is a " + m.kind()
          + " migration; only a warm migration has a cutover");
    }
    if (m.status() != MigrationStatus.RUNNING) {
      throw ControllerException.conflict("id", id, "migration " + id + " is already " + text(m.status()));
    }
    if (!WarmPhase.cutoverable().contains(m.phase())) {
      throw ControllerException.conflict("id", id, "migration " + id + " is in phase " + m.phase()
          + ": its cutover began already");
    }
    AtomicBoolean flag = cutovers.get(id);
    if (flag == null) {
      throw ControllerException.conflict("id", id, "migration " + id + " has no runner on this controller right now;"
          + " try again");
    }
    flag.set(true);
    LOG.info("migration {}: cutover requested", id);
    return get(id);
  }

  /**
   * Preflight (every refusal names its field), then records the migration and starts its runner.
   * The answer waits for the target agent's {@code PUT incoming} (up to {@link #TARGET_WAIT}) so
   * that its refusal, e.g. of the source's machine type, reaches the caller as the agent's 400.
   */
  public MigrationView startLive(LiveMigrationRequest r) {
    // before the preflight's state check: a VM under COLO reads paused during each checkpoint
    if (r != null && Names.valid(r.vm())) dev.ferry.controller.ft.FtGuard.requireUnprotected(ctx.store(), r.vm(), "migrate");
    LivePreflight.Plan plan = new LivePreflight(ctx, admission).check(r);
    MigrationRecord rec;
    CompletableFuture<Void> prepared = new CompletableFuture<>();
    synchronized (this) {
      admit(plan);
      rec = new MigrationRecord();
      rec.id = UUID.randomUUID().toString();
      rec.kind = "live";
      rec.vm = plan.vm().name();
      rec.source = plan.source().name();
      rec.target = plan.target().name();
      rec.phase = LivePhase.PENDING.text();
      rec.startedAt = ctx.clock().instant();
      rec.disks = plan.copies().stream().map(CopyStorageDisk::disk).toList();
      rec.plan = plan.options().plan(plan.copies());
      rec.reason = plan.options().note();
      Instant now = rec.startedAt;
      record(rec, json(r), now);
      LOG.info("migration {}: live migration of vm {} from host {} to host {} ({}){}", rec.id, rec.vm, rec.source,
          rec.target, rec.disks.isEmpty() ? "shared storage" : "copying " + rec.disks, rec.reason == null ? "" : "; " + rec.reason);
      ctx.events().publish("migration.phase", rec.id, ctx.view(rec));
      launchLive(rec, LivePhase.PENDING, false, prepared);
    }
    try {
      prepared.get(TARGET_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ControllerException ce) throw ce;
    } catch (TimeoutException e) {
      LOG.info("migration {}: target still preparing after {} ms; answering now", rec.id, TARGET_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return get(rec.id);
  }

  /** The checks made under the lock of the insert, the same for a dry run (which inserts nothing). */
  private void admit(LivePreflight.Plan plan) {
    admission.requireNoOtherMigration(plan.vm().name());
    admission.requireHostCapacity(plan.vm().name(), Admission.fields(plan.source().name(), plan.target().name()));
    // the reservation: counted with the migrations already arriving, under the lock of the insert
    admission.requireMemory(plan.vm(), plan.target());
  }

  /**
   * A live migration's dry run: the same preflight and admission as {@link #startLive}, refusing
   * in the same words, then a dirty rate measurement on the source (about a second) and the
   * prediction. Nothing is recorded or changed: no migration row, no target QEMU, no lock.
   */
  public MigrationPrediction dryRunLive(LiveMigrationRequest r) {
    LivePreflight.Plan plan = new LivePreflight(ctx, admission).check(r);
    synchronized (this) {
      admit(plan);
    }
    Predictor predictor = new Predictor(ctx);
    String source = plan.source().name();
    DirtyRate rate = predictor.measure(source, plan.vm().name());
    // with this measurement the migration that follows arms post-copy or not: predict what it will do
    String target = plan.target().name();
    LiveOptions options = LiveOptions.validate(r, predictor.armsPostcopy(r, ctx.hosts().postcopyReady(target), source,
        target, plan.vm().memoryGivenBytes(), rate));
    MigrationPrediction p = predictor.predict(source, target, plan.vm().memoryGivenBytes(), rate, options);
    LOG.info("dry run: live migration of vm {} from host {} to host {}: predicted total {} ms, downtime {} ms ({})",
        plan.vm().name(), source, plan.target().name(), p.predictedTotalMs(), p.predictedDowntimeMs(), p.outcome());
    return p;
  }

  /** Inserts the migration's row; the store's unique index refuses a second running one of the VM. */
  private void record(MigrationRecord rec, String request, Instant now) {
    boolean inserted = ctx.store().migrations().insert(new MigrationRow(rec.id, rec.kind, rec.vm, rec.source, rec.target,
        MigrationStatus.RUNNING, rec.phase, request, ctx.json(rec), false, now, now));
    if (!inserted) {
      throw ctx.store().migrations().runningForVm(rec.vm).map(m -> Admission.alreadyMigrating(rec.vm, m))
          .orElseGet(() -> ControllerException.conflict("vm", rec.vm, "another migration of vm '" + rec.vm
              + "' was recorded at the same moment; try again"));
    }
  }

  /** One page of migrations, newest first, after the migration {@code page.after()} (which must exist). */
  public List<MigrationView> list(dev.ferry.controller.store.Page page, MigrationStore.Filter filter) {
    if (page.after() != null && ctx.store().migrations().find(page.after()).isEmpty()) {
      throw ControllerException.invalid("after", page.after(), "the id of a listed migration (the last of the previous page)");
    }
    return ctx.store().migrations().page(page, filter).stream().map(MigrationService::view).toList();
  }

  public MigrationView get(String id) {
    return view(require(id));
  }

  /**
   * Cancels before the point of no return; 409 after it, saying why. The answer waits (up to
   * {@link #CANCEL_WAIT}) for the runner to end, so it says what truly happened: cancelled (or
   * failed with the rollback's reason), still rolling back ({@code running}), or 409 when the source
   * had completed before the cancel reached it and the migration rolled forward and succeeded.
   */
  public MigrationView cancel(String id) {
    MigrationRow m = require(id);
    if (m.status() != MigrationStatus.RUNNING) {
      throw ControllerException.conflict("id", id, "migration " + id + " is already " + text(m.status()));
    }
    AtomicBoolean flag = cancels.computeIfAbsent(id, k -> new AtomicBoolean());
    if (m.kind().equals("live")) {
      // under the flag's lock: the runner decides on post-copy under the same lock
      synchronized (flag) {
        if (view(require(id)).postcopy()) {
          throw ControllerException.conflict("id", id, "migration " + id + " switched to post-copy: the newest pages"
              + " of the guest are on host '" + m.target() + "' already and there is no way back; it will finish");
        }
        requestCancel(id, LivePhase.cancellable(), "the guest already runs on host '" + m.target() + "'");
        flag.set(true);
      }
    } else if (m.kind().equals("cold")) {
      requestCancel(id, ColdPhase.cancellable(), "vm '" + m.vm() + "' belongs to host '" + m.target() + "' already");
      flag.set(true);
    } else if (m.kind().equals("warm")) {
      requestCancel(id, WarmPhase.cancellable(), "vm '" + m.vm() + "' belongs to host '" + m.target() + "' already");
      flag.set(true);
    } else {
      requestCancel(id, StoragePhase.cancellable(), "the vm already writes to the new images");
      flag.set(true);
    }
    LOG.info("migration {}: cancel requested", id);
    CompletableFuture<Void> ended = runnerEnded.get(id);
    if (ended != null) {
      try {
        ended.get(CANCEL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        LOG.info("migration {}: still rolling back after {} ms; answering now", id, CANCEL_WAIT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    MigrationView now = get(id);
    if (now.status() == MigrationStatus.SUCCEEDED) {
      throw ControllerException.conflict("id", id, "migration " + id + " was not cancelled: the source had completed"
          + " before the cancel reached it, so it rolled forward and succeeded; vm '" + now.vm() + "' runs on host '"
          + now.target() + "'");
    }
    return now;
  }

  /**
   * An operator lets go of a VM whose migration cannot finish by itself (a host lost for good):
   * the runner is stopped where it is, nothing more is asked of any agent, and the migration ends
   * {@code failed} in its phase, with who-knows-what in the reason: the operator's words, the
   * phase, and where the guest may be. The VM's controller lock goes with it. The source agent
   * of a live migration is asked, once and best effort, to forget its record of the migration if
   * no runner drives it there any more (see {@link #releaseSource}).
   */
  public MigrationView unlock(String vm, dev.ferry.api.VmUnlockRequest r) {
    if (r == null || r.reason() == null || r.reason().isBlank()) {
      throw ControllerException.invalid("reason", r == null ? "" : String.valueOf(r.reason()),
          "why the vm is unlocked, in words: it is kept in the migration's record");
    }
    MigrationRow m = ctx.store().migrations().runningForVm(vm).orElseThrow(() -> ControllerException.conflict("vm", vm,
        "vm '" + vm + "' is not held by a running migration; nothing to unlock"));
    Future<?> runner = runnerTasks.get(m.id());
    if (runner != null) runner.cancel(true);
    CompletableFuture<Void> ended = runnerEnded.get(m.id());
    if (ended != null) {
      try {
        ended.get(CANCEL_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        throw new ControllerException(ControllerException.Kind.UNAVAILABLE, "the runner of migration " + m.id()
            + " did not stop within " + CANCEL_WAIT.toSeconds() + " s; try again", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ControllerException(ControllerException.Kind.INTERNAL, "interrupted while unlocking vm '" + vm + "'", e);
      }
    }
    MigrationRow now = require(m.id());
    MigrationRecord rec;
    try {
      rec = MigrationRecord.of(MigrationRecord.readStored(now.record()));
    } catch (IOException e) {
      throw new ControllerException(ControllerException.Kind.INTERNAL, "migration " + m.id() + " has an unreadable record", e);
    }
    String audit = "unlocked by an operator at " + ctx.clock().instant() + ": " + r.reason().strip() + " (the migration"
        + " stopped in phase " + now.phase() + (rec.stuck == null ? "" : ", stuck: " + rec.stuck) + "; check host '"
        + now.source() + "' and host '" + now.target() + "' for the guest and leftovers)"
        + releaseSource(now, r.reason().strip());
    rec.reason = rec.reason == null ? audit : rec.reason + "; " + audit;
    rec.stuck = null;
    rec.end(MigrationStatus.FAILED, ctx.clock().instant());
    // same phase: the record ends where it stopped, the compare-and-set still guards against a runner
    ctx.advance(rec, now.phase(), now.phase());
    LOG.warn("migration {}: vm {} {}", m.id(), vm, audit);
    ctx.events().publish("migration.done", rec.id, ctx.view(rec));
    return ctx.view(rec);
  }

  /**
   * A source agent keeps its record of a live migration whose QEMU completed until the controller's
   * complete, which an unlocked migration never sends; the record would keep the vm busy there and
   * refuse every later migration of it. So the unlock asks the source to let go of it, within
   * {@link #UNLOCK_AGENT_WAIT}; the answer, or why there was none, goes into the audit text. A
   * source that still drives the migration keeps its record (it refuses), as does one unreachable.
   */
  private String releaseSource(MigrationRow m, String reason) {
    if (!m.kind().equals("live")) return "";
    try {
      MigrationStats s = ctx.agent(m.source()).within(UNLOCK_AGENT_WAIT)
          .unlockOutgoing(m.vm(), new OutgoingUnlock(m.id(), reason));
      return "; host '" + m.source() + "' let go of its " + (s == null || s.phase() == null ? "" : s.phase().wire() + " ")
          + "record of the migration";
    } catch (RuntimeException e) {
      LOG.warn("migration {}: host '{}' kept its record of the migration: {}", m.id(), m.source(), e.getMessage());
      return "; host '" + m.source() + "' kept its record of the migration: " + e.getMessage();
    }
  }

  private void requestCancel(String id, List<String> cancellable, String why) {
    if (!ctx.store().migrations().requestCancel(id, cancellable)) {
      MigrationRow now = require(id);
      if (now.status() != MigrationStatus.RUNNING) {
        throw ControllerException.conflict("id", id, "migration " + id + " is already " + text(now.status()));
      }
      throw ControllerException.conflict("id", id, "migration " + id + " is past the point of no return (phase "
          + now.phase() + "): " + why + "; it will finish");
    }
  }

  /**
   * Picks up every migration a previous controller left running; what happens to each is its
   * phase's own recovery rule ({@link MigrationPhase#recovery}), applied by its runner.
   */
  public void recover() {
    for (MigrationRow m : ctx.store().migrations().running()) {
      MigrationRecord rec;
      try {
        rec = MigrationRecord.of(MigrationRecord.readStored(m.record()));
        if (m.cancelRequested()) cancels.computeIfAbsent(m.id(), k -> new AtomicBoolean()).set(true);
        if (m.kind().equals("live")) {
          if (rec.plan == null) rec.plan = planOfAnOlderRecord(rec, m);
          launchLive(rec, livePhase(m, rec), true, new CompletableFuture<>());
        } else if (m.kind().equals("cold")) {
          launchCold(rec, Json.mapper().readValue(m.request(), ColdMigrationRequest.class), ColdPhase.parse(m.phase()),
              true);
        } else if (m.kind().equals("warm")) {
          launchWarm(rec, Json.mapper().readValue(m.request(), dev.ferry.api.WarmMigrationRequest.class),
              WarmPhase.parse(m.phase()), true);
        } else {
          launch(rec, Json.mapper().readValue(m.request(), StorageMigrationRequest.class), StoragePhase.parse(m.phase()),
              true);
        }
      } catch (IOException e) {
        LOG.error("migration {}: unreadable record, left as it is: {}", m.id(), e.getMessage());
      }
    }
  }

  /**
   * The persisted phase; a record an older controller left in MIGRATING or SWITCHOVER with
   * post-copy already asked for is moved to {@link LivePhase#POSTCOPY}, the phase that says so.
   */
  private LivePhase livePhase(MigrationRow m, MigrationRecord rec) {
    LivePhase phase = LivePhase.parse(m.phase());
    if (rec.postcopy && (phase == LivePhase.MIGRATING || phase == LivePhase.SWITCHOVER)) {
      rec.phase = LivePhase.POSTCOPY.text();
      ctx.advance(rec, phase.text(), LivePhase.POSTCOPY.text());
      return LivePhase.POSTCOPY;
    }
    return phase;
  }

  /**
   * A record an older controller stored without its plan: the plan as that controller derived it,
   * from the request and the disks it chose to copy (the pool rule of the time: --target-pool, else
   * the disk's own). Persisted with the next phase change, used as is from then on.
   */
  private MigrationPlan planOfAnOlderRecord(MigrationRecord rec, MigrationRow m) throws IOException {
    // those controllers never armed post-copy unasked
    LiveOptions options = LiveOptions.validate(Json.mapper().readValue(m.request(), LiveMigrationRequest.class), false);
    List<CopyStorageDisk> copies = new ArrayList<>();
    for (String id : rec.disks) {
      DiskRow d = ctx.disk(rec.vm, id);
      copies.add(new CopyStorageDisk(id, options.targetPool() != null ? options.targetPool()
          : d.pool(), d.format(), d.sizeBytes()));
    }
    return options.plan(copies);
  }

  private void launchLive(MigrationRecord rec, LivePhase phase, boolean restarted, CompletableFuture<Void> prepared) {
    LiveOptions options = LiveOptions.of(rec.plan);
    AtomicBoolean cancel = cancels.computeIfAbsent(rec.id, k -> new AtomicBoolean());
    CompletableFuture<Void> ended = new CompletableFuture<>();
    runnerEnded.put(rec.id, ended);
    runnerTasks.put(rec.id, runners.submit(() -> {
      try {
        new LiveMigration(ctx, rec, options, phase, cancel, prepared, restarted).run();
      } finally {
        cancels.remove(rec.id);
        ended.complete(null);
        runnerEnded.remove(rec.id, ended);
        runnerTasks.remove(rec.id);
      }
    }));
  }

  private void launch(MigrationRecord rec, StorageMigrationRequest r, StoragePhase phase, boolean restarted) {
    AtomicBoolean cancel = cancels.computeIfAbsent(rec.id, k -> new AtomicBoolean());
    CompletableFuture<Void> ended = new CompletableFuture<>();
    runnerEnded.put(rec.id, ended);
    runnerTasks.put(rec.id, runners.submit(() -> {
      try {
        new StorageMigration(ctx, rec, r, phase, cancel, restarted).run();
      } finally {
        cancels.remove(rec.id);
        ended.complete(null);
        runnerEnded.remove(rec.id, ended);
        runnerTasks.remove(rec.id);
      }
    }));
  }

  private List<String> chooseDisks(StorageMigrationRequest r, VmRow vm, List<DiskRow> disks) {
    if (disks.isEmpty()) throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' has no disks to move");
    String known = String.join(", ", disks.stream().map(DiskRow::id).toList());
    if (r.disks() != null && !r.disks().isEmpty()) {
      for (int i = 0; i < r.disks().size(); i++) {
        String id = r.disks().get(i);
        if (disks.stream().noneMatch(d -> d.id().equals(id))) {
          throw ControllerException.notFound("disks[" + i + "]", id, "vm '" + vm.name() + "' has no disk '" + id
              + "' (disks: " + known + ")", known);
        }
      }
      return List.copyOf(r.disks());
    }
    List<String> ids = disks.stream()
        .filter(d -> !r.toPool().equals(d.pool()) || (r.format() != null && !r.format().equals(d.format())))
        .map(DiskRow::id).toList();
    if (ids.isEmpty()) {
      throw ControllerException.conflict("to_pool", r.toPool(), "every disk of vm '" + vm.name() + "' is already in pool '"
          + r.toPool() + "'" + (r.format() == null ? "" : " as " + r.format()));
    }
    return ids;
  }

  private MigrationRow require(String id) {
    return ctx.store().migrations().find(id).orElseThrow(() -> ControllerException.notFound("id", id,
        "migration '" + id + "' is not known", null));
  }

  private static MigrationView view(MigrationRow m) {
    try {
      return MigrationRecord.readStored(m.record());
    } catch (IOException e) {
      throw new ControllerException(ControllerException.Kind.INTERNAL, "migration " + m.id() + " has an unreadable record", e);
    }
  }

  private static String json(Object o) {
    try {
      return Json.mapper().writeValueAsString(o);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String text(Enum<?> e) {
    return e.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void close() {
    runners.shutdownNow();
  }
}
