package dev.ferry.agent.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.MigrationStats;
import dev.ferry.api.MirrorProgress;
import dev.ferry.api.OutgoingRequest;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import dev.ferry.qmp.QmpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The source side of live migrations (libvirt's {@code qemuMigrationSrc*}).
 *
 * <p>Design: {@code POST outgoing} records the request and returns; a virtual thread per
 * migration (the runner) drives it: with copied storage it adds an NBD node per disk on the
 * target's export and a write-blocking mirror into it, waits for every mirror to be READY, then
 * sets capabilities (always {@code events}; {@code pause-before-switchover} with copied storage)
 * and parameters and sends {@code migrate}; afterwards it polls {@code query-migrate}, waking on
 * every {@code MIGRATION} event. A QMP event listener handles {@code pre-switchover} at once, on a
 * thread of its own so the guest's pause stays short: cancel the READY mirrors (a consistent copy,
 * no pivot), wait for them to conclude, dismiss them, {@code migrate-continue}. Every step observes
 * QEMU before it acts (does the node, the job, the migration exist?), so a repeated request or a
 * restarted agent re-runs the runner harmlessly. The observed pause is measured by QEMU's own
 * event timestamps: {@code STOP} of the source to {@code MIGRATION completed}.
 */
final class MigrationSource {

  private static final Logger log = LoggerFactory.getLogger(MigrationSource.class);
  static final Duration TICK = Duration.ofMillis(250);
  static final Duration JOB_END = Duration.ofSeconds(30);

  private final Vms vms;
  private final Pools pools;
  private final MigrationStore store;
  private final Busy busy;
  private final Map<String, Outgoing> live = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();

  MigrationSource(Vms vms, Pools pools, MigrationStore store, Busy busy) {
    this.vms = vms;
    this.pools = pools;
    this.store = store;
    this.busy = busy;
  }

  /** One outgoing migration at run time: its record, its QEMU, the timestamps events bring. */
  static final class Outgoing {
    final String vm;
    final QemuProcess process;
    final MigrationQmp qmp;
    final AtomicBoolean switchoverStarted = new AtomicBoolean();
    volatile OutgoingRecord record;
    volatile QmpSubscription events;
    volatile Instant stoppedAt;
    volatile Instant preSwitchoverAt;
    volatile Instant completedAt;
    volatile JsonNode lastQm;
    volatile List<MirrorProgress> lastMirrors = List.of();

    Outgoing(String vm, OutgoingRecord record, QemuProcess process) {
      this.vm = vm;
      this.record = record;
      this.process = process;
      this.qmp = process == null ? null : new MigrationQmp(process.qmp());
      this.stoppedAt = record.stoppedAt();
      this.preSwitchoverAt = record.preSwitchoverAt();
    }

    MigrationQmp qmp() {
      if (qmp == null || !process.isAlive()) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " has no qemu on this host any more");
      }
      return qmp;
    }
  }

  private Object lockFor(String vm) {
    return locks.computeIfAbsent(vm, k -> new Object());
  }

  MigrationStats start(String name, OutgoingRequest req) {
    Requests.validate(req);
    synchronized (lockFor(name)) {
      Optional<OutgoingRecord> existing = store.outgoing(name);
      if (existing.isPresent()) {
        OutgoingRecord r = existing.get();
        if (r.migrationId().equals(req.migrationId())) return stats(name); // a repeated request
        if (!r.phase().ended()) {
          throw new AgentException(Kind.CONFLICT, "vm " + name + " is already migrating (migration " + r.migrationId()
              + ", " + r.phase().wire() + ")");
        }
      }
      store.incoming(name).filter(r -> r.phase().blocksActions()).ifPresent(r -> {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is arriving on this host (migration " + r.migrationId() + ")");
      });
      Outgoing o = vms.withVm(name, h -> {
        QemuProcess p = h.process().orElseThrow(() -> new AgentException(Kind.CONFLICT,
            "vm " + name + " is not running; only a running vm migrates live"));
        var q = new MigrationQmp(p.qmp());
        if (MigrationQmp.underWay(MigrationQmp.status(q.queryMigrate()))) {
          throw new AgentException(Kind.CONFLICT, "qemu of vm " + name + " already has a migration under way");
        }
        boolean running = q.runState().running();
        var rec = new OutgoingRecord(OutgoingRecord.ROLE, req.migrationId(), OutgoingPhase.PREPARING, req.migrationUri(),
            req.capabilities(), req.parameters(), req.nbd(), mirrors(h, req), running, Instant.now(), null, null, null, null,
            null, null);
        store.write(name, rec);
        busy.set(name, true, "it is migrating to another host (migration " + rec.migrationId() + ")");
        return new Outgoing(name, rec, p);
      });
      launch(o);
      log.info("vm {} migration {}: outgoing to {} ({}){}", name, req.migrationId(), req.migrationUri(),
          o.record.mirrors().isEmpty() ? "shared storage" : "copying " + o.record.mirrors().size() + " disk(s)",
          o.record.wasRunning() ? "" : ", guest paused");
    }
    return stats(name);
  }

  private static List<OutgoingRecord.Mirror> mirrors(VmHandle h, OutgoingRequest req) {
    if (req.nbd() == null) return List.of();
    var list = new ArrayList<OutgoingRecord.Mirror>();
    req.nbd().exports().forEach((disk, export) -> {
      DiskSpec d = h.disk(disk);
      list.add(new OutgoingRecord.Mirror(disk, h.nodes(d).format(), "lm-nbd-" + disk, "lm-" + disk, export));
    });
    return list;
  }

  /** Re-attaches to the migrations a previous agent left under way (runs at agent start). */
  void recover(String name) {
    Optional<OutgoingRecord> rec = store.outgoing(name);
    if (rec.isEmpty()) return;
    OutgoingRecord r = rec.get();
    busy.set(name, r.phase().blocksActions(), "it is migrating to another host (migration " + r.migrationId() + ")");
    QemuProcess p = vms.peek(name).process().orElse(null);
    switch (r.phase()) {
      // under way: the runner observes what exists and carries on
      case PREPARING, MIRRORING, MIGRATING, SWITCHOVER -> {
        var o = new Outgoing(name, r, p);
        live.put(name, o);
        if (p == null) fail(o, "the source qemu ended while no agent watched");
        else launch(o);
      }
      // waits for complete (or the target's rollback and a cancel)
      case COMPLETED -> live.put(name, new Outgoing(name, r, p));
      // over: nothing holds the vm
      case HANDED_OVER, FAILED, CANCELLED -> { }
    }
  }

  private void launch(Outgoing o) {
    live.put(o.vm, o);
    o.events = o.process.qmp().subscribe(e -> onEvent(o, e));
    Thread.ofVirtual().name("migrate-out " + o.vm).start(() -> withMdc(o, () -> drive(o)));
  }

  private void drive(Outgoing o) {
    try {
      OutgoingRecord r = o.record;
      if (!r.mirrors().isEmpty() && (r.phase() == OutgoingPhase.PREPARING || r.phase() == OutgoingPhase.MIRRORING)) {
        if (!advance(o, OutgoingPhase.MIRRORING, x -> x) && o.record.phase() != OutgoingPhase.MIRRORING) return;
        startMirrors(o);
        if (!awaitMirrorsReady(o)) return;
      }
      synchronized (o) {
        if (o.record.phase().ordinal() < OutgoingPhase.MIGRATING.ordinal()) {
          boolean already = MigrationQmp.underWay(MigrationQmp.status(o.qmp().queryMigrate()));
          if (!advance(o, OutgoingPhase.MIGRATING, x -> x.withTimes(Instant.now(), null, null, null))) return;
          if (!already) migrate(o);
        }
      }
      monitor(o);
    } catch (RuntimeException e) {
      if (o.record.phase().ended()) return;
      log.warn("vm {} migration {}: {}", o.vm, o.record.migrationId(), e.getMessage());
      abort(o, MigrationQmp.describe(e));
    }
  }

  private void startMirrors(Outgoing o) {
    MigrationQmp q = o.qmp();
    var nodes = q.nodeNames();
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      if (nodes.contains(m.node())) continue;
      var server = Map.of("type", "inet", "host", o.record.nbd().host(), "port", Integer.toString(o.record.nbd().port()));
      q.call("blockdev-add", Map.of("driver", "nbd", "node-name", m.node(), "server", server, "export", m.export()));
    }
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      if (q.job(m.job()).isPresent()) continue;
      var args = new LinkedHashMap<String, Object>();
      args.put("job-id", m.job());
      args.put("device", m.device());
      args.put("target", m.node());
      args.put("sync", "full");
      args.put("copy-mode", "write-blocking");
      args.put("auto-dismiss", false);
      q.call("blockdev-mirror", args);
      log.info("vm {} migration {}: mirroring disk {} to nbd export {}", o.vm, o.record.migrationId(), m.disk(), m.export());
    }
  }

  /** True once every mirror is READY; false when the migration ended meanwhile (cancelled). */
  private boolean awaitMirrorsReady(Outgoing o) {
    long t0 = System.nanoTime();
    while (true) {
      if (o.record.phase() != OutgoingPhase.MIRRORING) return false;
      Map<String, JsonNode> jobs = o.qmp().blockJobs();
      boolean allReady = true;
      for (OutgoingRecord.Mirror m : o.record.mirrors()) {
        JsonNode j = jobs.get(m.job());
        if (j == null || j.path("status").asText().equals("concluded")) {
          String err = o.qmp().job(m.job()).map(MigrationQmp.Job::error).orElse("the job is gone");
          throw new AgentException(Kind.UNAVAILABLE, "mirror of disk " + m.disk() + " to the target failed: " + err);
        }
        allReady &= j.path("ready").asBoolean();
      }
      o.lastMirrors = progress(o.record.mirrors(), jobs);
      if (allReady) {
        log.info("vm {} migration {}: every mirror ready after {} ms", o.vm, o.record.migrationId(),
            (System.nanoTime() - t0) / 1_000_000);
        return true;
      }
      tick(o, "BLOCK_JOB_READY");
    }
  }

  private void migrate(Outgoing o) {
    var caps = new LinkedHashMap<String, Boolean>();
    caps.put("events", true);
    caps.putAll(o.record.capabilities());
    if (!o.record.mirrors().isEmpty()) caps.put("pause-before-switchover", true);
    MigrationQmp q = o.qmp();
    q.setCapabilities(caps);
    q.setParameters(o.record.parameters());
    q.call("migrate", Map.of("uri", o.record.migrationUri()));
    log.info("vm {} migration {}: migrate sent (capabilities {}, parameters {})", o.vm, o.record.migrationId(), caps,
        o.record.parameters());
  }

  /** Polls query-migrate until the migration completed or ended, waking on every MIGRATION event. */
  private void monitor(Outgoing o) {
    while (o.record.phase().blocksActions() && o.record.phase() != OutgoingPhase.COMPLETED) {
      JsonNode qm = o.qmp().queryMigrate();
      o.lastQm = qm;
      if (!o.record.mirrors().isEmpty() && o.record.phase() == OutgoingPhase.MIGRATING) {
        o.lastMirrors = progress(o.record.mirrors(), o.qmp().blockJobs());
      }
      reconcile(o, qm);
      if (o.record.phase() == OutgoingPhase.COMPLETED || o.record.phase().ended()) return;
      tick(o, "MIGRATION");
    }
  }

  private void onEvent(Outgoing o, QmpEvent e) {
    switch (e.name()) {
      case "STOP" -> {
        if (o.stoppedAt == null && o.record.phase().ordinal() >= OutgoingPhase.MIGRATING.ordinal()) o.stoppedAt = e.timestamp();
      }
      case "MIGRATION" -> {
        String st = e.data().path("status").asText();
        switch (st) {
          case "pre-switchover" -> {
            o.preSwitchoverAt = e.timestamp();
            if (o.switchoverStarted.compareAndSet(false, true)) {
              Thread.ofVirtual().name("switchover " + o.vm).start(() -> withMdc(o, () -> switchover(o)));
            }
          }
          case "completed" -> {
            o.completedAt = e.timestamp();
            Thread.ofVirtual().start(() -> withMdc(o, () -> reconcileNow(o)));
          }
          case "failed", "cancelled" -> Thread.ofVirtual().start(() -> withMdc(o, () -> reconcileNow(o)));
          default -> log.debug("vm {} migration {}: qemu migration status {}", o.vm, o.record.migrationId(), st);
        }
      }
      default -> { }
    }
  }

  /**
   * QEMU paused before switchover: the guest is stopped and every mirror is in sync, so
   * cancelling them leaves a consistent copy on the target (no pivot); then let QEMU switch over.
   */
  private void switchover(Outgoing o) {
    long t0 = System.nanoTime();
    try {
      // already SWITCHOVER: a restarted agent found QEMU still waiting in pre-switchover
      if (o.record.phase() != OutgoingPhase.SWITCHOVER
          && !advance(o, OutgoingPhase.SWITCHOVER, x -> x.withTimes(null, o.stoppedAt, o.preSwitchoverAt, null))) {
        return;
      }
      MigrationQmp q = o.qmp();
      for (OutgoingRecord.Mirror m : o.record.mirrors()) {
        Optional<MigrationQmp.Job> j = q.job(m.job());
        if (j.isPresent() && !j.get().concluded()) q.call("block-job-cancel", Map.of("device", m.job()));
      }
      o.lastMirrors = progress(o.record.mirrors(), q.blockJobs());
      for (OutgoingRecord.Mirror m : o.record.mirrors()) {
        q.awaitConcluded(m.job(), JOB_END);
        Optional<MigrationQmp.Job> j = q.job(m.job());
        if (j.isPresent() && j.get().error() != null) {
          throw new AgentException(Kind.UNAVAILABLE, "mirror of disk " + m.disk() + " failed at switchover: " + j.get().error());
        }
        q.dismissIfConcluded(m.job());
      }
      q.call("migrate-continue", Map.of("state", "pre-switchover"));
      log.info("vm {} migration {}: switchover: {} mirror(s) cancelled in sync, continued after {} ms", o.vm,
          o.record.migrationId(), o.record.mirrors().size(), (System.nanoTime() - t0) / 1_000_000);
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: switchover failed: {}", o.vm, o.record.migrationId(), e.getMessage());
      abort(o, "switchover failed: " + MigrationQmp.describe(e));
    }
  }

  private void reconcileNow(Outgoing o) {
    try {
      JsonNode qm = o.qmp().queryMigrate();
      o.lastQm = qm;
      reconcile(o, qm);
    } catch (RuntimeException e) {
      log.debug("vm {} migration {}: query-migrate: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
  }

  /** Moves the record to what QEMU says happened. */
  private void reconcile(Outgoing o, JsonNode qm) {
    switch (MigrationQmp.status(qm)) {
      case "completed" -> completed(o, qm);
      case "failed" -> fail(o, "qemu reports the migration failed: " + qm.path("error-desc").asText("no reason given"));
      case "cancelled" -> {
        if (o.record.phase() != OutgoingPhase.CANCELLED) fail(o, "qemu reports the migration cancelled");
      }
      case "pre-switchover" -> {
        // the event was missed (e.g. an agent restart): the listener's work, done from here
        if (o.switchoverStarted.compareAndSet(false, true)) switchover(o);
      }
      default -> { }
    }
  }

  private void completed(Outgoing o, JsonNode qm) {
    if (o.record.phase() == OutgoingPhase.COMPLETED || o.record.phase().ended()) return;
    Instant done = o.completedAt != null ? o.completedAt : Instant.now();
    Long pause = o.stoppedAt == null ? null : Duration.between(o.stoppedAt, done).toMillis();
    Long switchover = o.preSwitchoverAt == null ? null : Duration.between(o.preSwitchoverAt, done).toMillis();
    Instant sent = o.record.migrateSentAt();
    Long wall = sent == null ? null : Duration.between(sent, Instant.now()).toMillis();
    MigrationStats s = MigrationQmp.stats(o.record.migrationId(), OutgoingPhase.COMPLETED.wire(), qm, o.lastMirrors,
        pause, switchover, wall, Duration.between(o.record.startedAt(), Instant.now()).toMillis(), null);
    if (!advance(o, OutgoingPhase.COMPLETED, x -> x.withTimes(null, o.stoppedAt, o.preSwitchoverAt, done).withOutcome(s, null))) {
      return;
    }
    log.info("vm {} migration {}: completed: total {} ms, qemu downtime {} ms, observed pause {} ms, {} bytes of ram",
        o.vm, o.record.migrationId(), s.totalTimeMs(), s.downtimeMs(), pause, s.ramTransferredBytes());
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      try {
        o.qmp().deleteNodeIfPresent(m.node());
      } catch (RuntimeException e) {
        log.info("vm {} migration {}: removing nbd node {}: {}", o.vm, o.record.migrationId(), m.node(), e.getMessage());
      }
    }
  }

  /** Ends a migration that failed before completion and gives the guest back to the source. */
  private void fail(Outgoing o, String why) {
    JsonNode qm = o.lastQm;
    MigrationStats s = qm == null ? null : MigrationQmp.stats(o.record.migrationId(), OutgoingPhase.FAILED.wire(), qm,
        o.lastMirrors, null, null, null, Duration.between(o.record.startedAt(), Instant.now()).toMillis(), why);
    if (!advance(o, OutgoingPhase.FAILED, x -> x.withTimes(null, null, null, Instant.now()).withOutcome(s, why))) return;
    log.warn("vm {} migration {}: failed: {}", o.vm, o.record.migrationId(), why);
    cleanUp(o);
  }

  /** A failure of the agent's own steps: stop QEMU's migration too, then as {@link #fail}. */
  private void abort(Outgoing o, String why) {
    try {
      if (o.qmp != null && o.process.isAlive()) o.qmp.call("migrate_cancel", Map.of());
    } catch (RuntimeException e) {
      log.info("vm {} migration {}: migrate_cancel: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
    fail(o, why);
  }

  /** Best-effort, each part on its own: mirrors cancelled and dismissed, NBD nodes removed, the guest resumed. */
  private void cleanUp(Outgoing o) {
    if (o.qmp == null || !o.process.isAlive()) return;
    MigrationQmp q = o.qmp;
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      try {
        Optional<MigrationQmp.Job> j = q.job(m.job());
        if (j.isPresent() && !j.get().concluded()) q.call("block-job-cancel", Map.of("device", m.job(), "force", true));
        q.awaitConcluded(m.job(), JOB_END);
        q.dismissIfConcluded(m.job());
      } catch (RuntimeException e) {
        log.warn("vm {} migration {}: cancelling mirror {}: {}", o.vm, o.record.migrationId(), m.job(), e.getMessage());
      }
      try {
        q.deleteNodeIfPresent(m.node());
      } catch (RuntimeException e) {
        log.warn("vm {} migration {}: removing nbd node {}: {}", o.vm, o.record.migrationId(), m.node(), e.getMessage());
      }
    }
    if (!o.record.wasRunning()) return;
    try {
      MigrationQmp.RunState rs = q.runState();
      for (int i = 0; i < 40 && rs.status().equals("finish-migrate"); i++) {
        tick(o, "RESUME");
        rs = q.runState();
      }
      // postmigrate only when a cancel raced with completion; the target has not run the guest
      if (!rs.running() && (rs.status().equals("paused") || rs.status().equals("postmigrate"))) {
        q.call("cont", Map.of());
        log.info("vm {} migration {}: guest resumed on the source", o.vm, o.record.migrationId());
      }
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: resuming the source: {}", o.vm, o.record.migrationId(), e.getMessage());
    }
  }

  MigrationStats cancel(String name) {
    synchronized (lockFor(name)) {
      OutgoingRecord r = store.outgoing(name).orElseThrow(() -> noMigration(name));
      switch (r.phase()) {
        case CANCELLED, FAILED -> {
          return stats(name);
        }
        case COMPLETED, HANDED_OVER -> throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm "
            + name + " is " + r.phase().wire() + "; the guest is on the target now, roll forward");
        case PREPARING, MIRRORING, MIGRATING, SWITCHOVER -> { }
      }
      Outgoing o = live.computeIfAbsent(name, n -> new Outgoing(n, r, vms.peek(n).process().orElse(null)));
      if (!advance(o, OutgoingPhase.CANCELLED, x -> x.withTimes(null, null, null, Instant.now()))) return stats(name);
      log.info("vm {} migration {}: cancelling", name, r.migrationId());
      if (o.qmp != null && o.process.isAlive()) {
        try {
          o.qmp.call("migrate_cancel", Map.of());
          for (int i = 0; i < 40; i++) {
            JsonNode qm = o.qmp.queryMigrate();
            o.lastQm = qm;
            if (!MigrationQmp.underWay(MigrationQmp.status(qm))) break;
            tick(o, "MIGRATION");
          }
        } catch (RuntimeException e) {
          log.warn("vm {} migration {}: migrate_cancel: {}", name, r.migrationId(), e.getMessage());
        }
        JsonNode qm = o.lastQm;
        if (qm != null) {
          MigrationStats s = MigrationQmp.stats(r.migrationId(), OutgoingPhase.CANCELLED.wire(), qm, o.lastMirrors, null,
              null, null, Duration.between(r.startedAt(), Instant.now()).toMillis(), "cancelled on request");
          persist(o, o.record.withOutcome(s, "cancelled on request"));
        }
      }
      cleanUp(o);
      closeEvents(o);
    }
    return stats(name);
  }

  MigrationStats postcopy(String name) {
    synchronized (lockFor(name)) {
      OutgoingRecord r = store.outgoing(name).orElseThrow(() -> noMigration(name));
      if (!Boolean.TRUE.equals(r.capabilities().get("postcopy-ram"))) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name
            + " was started without the postcopy-ram capability");
      }
      if (r.phase() != OutgoingPhase.MIGRATING) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + "; post-copy can start only while migrating");
      }
      Outgoing o = live.get(name);
      if (o == null) throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " is not watched by this agent");
      String st = MigrationQmp.status(o.qmp().queryMigrate());
      if (!st.startsWith("postcopy")) o.qmp().call("migrate-start-postcopy", Map.of());
      log.info("vm {} migration {}: switched to post-copy", name, r.migrationId());
    }
    return stats(name);
  }

  /**
   * After the controller saw the guest run on the target: quit the source QEMU and forget the VM
   * here. Shared disks are never deleted; the source images of copied disks only when asked.
   */
  MigrationStats complete(String name, boolean deleteSourceImages) {
    synchronized (lockFor(name)) {
      Optional<OutgoingRecord> rec = store.outgoing(name);
      if (rec.isEmpty()) {
        return store.handedOver(name).map(MigrationSource::finalStats).orElseThrow(() -> noMigration(name));
      }
      OutgoingRecord r = rec.get();
      if (r.phase() != OutgoingPhase.COMPLETED) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is "
            + r.phase().wire() + "; complete only after it completed");
      }
      Outgoing o = live.computeIfAbsent(name, n -> new Outgoing(n, r, vms.peek(n).process().orElse(null)));
      List<Path> copied = new ArrayList<>();
      for (OutgoingRecord.Mirror m : r.mirrors()) copied.add(Path.of(vms.peek(name).disk(m.disk()).path()));
      // vm is now owned by the target host
      advance(o, OutgoingPhase.HANDED_OVER, x -> x);
      closeEvents(o);
      vms.withVm(name, VmHandle::quit);
      store.archive(name, o.record);
      live.remove(name);
      vms.forget(name);
      if (deleteSourceImages) {
        for (Path p : copied) {
          try {
            Files.deleteIfExists(pools.guard("disk", p.toString()));
            log.info("vm {} migration {}: deleted source image {}", name, r.migrationId(), p);
          } catch (Exception e) {
            log.warn("vm {} migration {}: keeping source image {}: {}", name, r.migrationId(), p, e.getMessage());
          }
        }
      }
      log.info("vm {} migration {}: handed over; source qemu quit, vm forgotten here", name, r.migrationId());
      return finalStats(o.record);
    }
  }

  MigrationStats stats(String name) {
    Optional<OutgoingRecord> rec = store.outgoing(name);
    if (rec.isEmpty()) return store.handedOver(name).map(MigrationSource::finalStats).orElseThrow(() -> noMigration(name));
    OutgoingRecord r = rec.get();
    Outgoing o = live.get(name);
    if (o == null || r.phase() == OutgoingPhase.COMPLETED || r.phase().ended() || o.qmp == null || !o.process.isAlive()) {
      if (r.lastStats() != null) return finalStats(r);
      JsonNode qm = o == null ? null : o.lastQm;
      return MigrationQmp.stats(r.migrationId(), r.phase().wire(), qm == null ? Json.empty() : qm,
          o == null ? List.of() : o.lastMirrors, null, null, null, null, r.error());
    }
    JsonNode qm = o.qmp.queryMigrate();
    List<MirrorProgress> mirrors = r.mirrors().isEmpty() ? List.of() : progress(r.mirrors(), o.qmp.blockJobs());
    if (!mirrors.isEmpty() && mirrors.stream().noneMatch(m -> m.status().equals("gone"))) o.lastMirrors = mirrors;
    Instant sent = r.migrateSentAt();
    return MigrationQmp.stats(r.migrationId(), r.phase().wire(), qm, mirrors, null, null,
        sent == null ? null : Duration.between(sent, Instant.now()).toMillis(),
        Duration.between(r.startedAt(), Instant.now()).toMillis(), r.error());
  }

  private static MigrationStats finalStats(OutgoingRecord r) {
    MigrationStats s = r.lastStats();
    if (s == null) {
      return MigrationQmp.stats(r.migrationId(), r.phase().wire(), Json.empty(), List.of(), null, null, null, null, r.error());
    }
    return new MigrationStats(s.migrationId(), r.phase().wire(), s.status(), s.totalTimeMs(), s.setupTimeMs(),
        s.downtimeMs(), s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(),
        s.dirtyRateBytesPerS(), s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(),
        s.wallTimeMs(), s.elapsedMs(), s.error());
  }

  private static List<MirrorProgress> progress(List<OutgoingRecord.Mirror> mirrors, Map<String, JsonNode> jobs) {
    var list = new ArrayList<MirrorProgress>();
    for (OutgoingRecord.Mirror m : mirrors) {
      JsonNode j = jobs.get(m.job());
      list.add(j == null ? new MirrorProgress(m.disk(), m.job(), "gone", false, 0, 0)
          : new MirrorProgress(m.disk(), m.job(), j.path("status").asText(), j.path("ready").asBoolean(),
              j.path("offset").asLong(), j.path("len").asLong()));
    }
    return list;
  }

  /** Compare-and-set of the phase, persisted before the caller acts on it. */
  private boolean advance(Outgoing o, OutgoingPhase next, UnaryOperator<OutgoingRecord> change) {
    synchronized (o) {
      OutgoingPhase from = o.record.phase();
      if (!from.canMoveTo(next)) return false;
      OutgoingRecord r = change.apply(o.record.withPhase(next));
      persist(o, r);
      log.info("vm {} migration {}: {} -> {} ({} ms since start)", o.vm, r.migrationId(), from.wire(), next.wire(),
          Duration.between(r.startedAt(), Instant.now()).toMillis());
      return true;
    }
  }

  private void persist(Outgoing o, OutgoingRecord r) {
    synchronized (o) {
      o.record = r;
      store.write(o.vm, r);
      busy.set(o.vm, r.phase().blocksActions(), "it is migrating to another host (migration " + r.migrationId() + ", "
          + r.phase().wire() + ")");
    }
  }

  private void closeEvents(Outgoing o) {
    QmpSubscription s = o.events;
    if (s != null) s.close();
  }

  /** Waits for the next event called {@code name} or {@link #TICK}, whichever comes first. */
  private static void tick(Outgoing o, String name) {
    try {
      o.qmp().qmpClient().awaitEvent(e -> e.name().equals(name), TICK);
    } catch (QmpTimeoutException e) {
      // the tick
    } catch (QmpException e) {
      throw e;
    }
  }

  private static void withMdc(Outgoing o, Runnable r) {
    try (var a = MDC.putCloseable("vm", o.vm); var b = MDC.putCloseable("migration", o.record.migrationId())) {
      r.run();
    }
  }

  private static AgentException noMigration(String name) {
    return new AgentException(Kind.NOT_FOUND, "vm " + name + " has no outgoing migration on this host");
  }

  /** Empty JSON for stats before QEMU said anything. */
  static final class Json {
    private static final JsonNode EMPTY = dev.ferry.api.Json.mapper().createObjectNode();

    static JsonNode empty() {
      return EMPTY;
    }
  }
}
