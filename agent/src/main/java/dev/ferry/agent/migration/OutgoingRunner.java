package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Migration;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.qmp.block.BlockdevMirror;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import dev.ferry.qmp.migration.Migrate;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of live migrations (libvirt's {@code qemuMigrationSrc*}): the runner that drives
 * each one. {@code POST outgoing} records the request and returns; a virtual thread per migration
 * drives it: with copied storage it adds an NBD node per disk on the target's export and a
 * write-blocking mirror into it, waits for every mirror to be READY, then sets capabilities
 * (always {@code events}; {@code pause-before-switchover} with copied storage) and parameters and
 * sends {@code migrate}; afterwards it polls {@code query-migrate}, waking on every
 * {@code MIGRATION} event, and leaves what QEMU reports to the {@link OutgoingReconciler}. Every
 * step observes QEMU before it acts (does the node, the job, the migration exist?), so a repeated
 * request or a restarted agent re-runs the runner harmlessly.
 */
// the per-VM migration lock is held by try-with-resources and never referenced inside
@SuppressWarnings("try")
final class OutgoingRunner {

  private static final Logger log = LoggerFactory.getLogger(OutgoingRunner.class);

  private final Vms vms;
  private final MigrationStore store;
  private final Busy busy;
  private final OutgoingMigrations outgoing;
  private final OutgoingReconciler reconciler;
  private final OutgoingStats stats;
  private final StreamTls tls;
  /** the target listens (migration, NBD) and this source has not connected yet */
  static final String BEFORE_MIRRORS = "outgoing.before-mirrors";

  OutgoingRunner(Vms vms, MigrationStore store, Busy busy, OutgoingMigrations outgoing, OutgoingReconciler reconciler,
      OutgoingStats stats, StreamTls tls) {
    this.tls = tls;
    this.vms = vms;
    this.store = store;
    this.busy = busy;
    this.outgoing = outgoing;
    this.reconciler = reconciler;
    this.stats = stats;
  }

  MigrationStats start(String name, OutgoingRequest req) {
    Requests.validate(req);
    try (MigrationLocks.Held held = outgoing.lock(name, "start the migration")) {
      Optional<OutgoingRecord> existing = store.outgoing(name);
      if (existing.isPresent()) {
        OutgoingRecord r = existing.get();
        if (r.migrationId().equals(req.migrationId())) return stats.of(name); // a repeated request
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
        var q = new Qmp(p.qmp());
        MigrationInfo before = q.migration().query();
        if (Migration.underWay(Migration.status(before))) {
          throw new AgentException(Kind.CONFLICT, "qemu of vm " + name + " already has a migration under way");
        }
        boolean running = q.runState().running();
        var rec = new OutgoingRecord(OutgoingRecord.ROLE, req.migrationId(), OutgoingPhase.PREPARING, req.migrationUri(),
            req.capabilities(), req.parameters(), req.nbd(), mirrors(h, req), running, Instant.now(), null, null, null, null,
            null, null, null);
        store.write(name, rec);
        busy.set(name, true, "it is migrating to another host (migration " + rec.migrationId() + ")");
        var watched = new Outgoing(name, rec, p);
        watched.lastQm = before;
        return watched;
      });
      launch(o);
      log.info("vm {} migration {}: outgoing to {} ({}){}", name, req.migrationId(), req.migrationUri(),
          o.record.mirrors().isEmpty() ? "shared storage" : "copying " + o.record.mirrors().size() + " disk(s)",
          o.record.wasRunning() ? "" : ", guest paused");
    }
    return stats.of(name);
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
        outgoing.watch(o);
        if (p == null) reconciler.fail(o, "the source qemu ended while no agent watched");
        else launch(o);
      }
      // waits for complete (or the target's rollback and a cancel)
      case COMPLETED -> outgoing.watch(new Outgoing(name, r, p));
      // over: nothing holds the vm
      case HANDED_OVER, FAILED, CANCELLED, RECLAIMED -> { }
    }
  }

  private void launch(Outgoing o) {
    outgoing.watch(o);
    o.events = o.process.qmp().subscribe(e -> reconciler.onEvent(o, e));
    Thread.ofVirtual().name("migrate-out " + o.vm).start(() -> o.withMdc(() -> drive(o)));
  }

  private void drive(Outgoing o) {
    try {
      // the answer of GET outgoing until the monitor below polls (a restarted agent has none yet)
      if (o.lastQm == null) o.lastQm = o.qmp().migration().query();
      OutgoingRecord r = o.record;
      if (!r.mirrors().isEmpty() && (r.phase() == OutgoingPhase.PREPARING || r.phase() == OutgoingPhase.MIRRORING)) {
        if (!outgoing.advance(o, OutgoingPhase.MIRRORING, x -> x) && o.record.phase() != OutgoingPhase.MIRRORING) return;
        startMirrors(o);
        if (!awaitMirrorsReady(o)) return;
      }
      synchronized (o) {
        if (o.record.phase().ordinal() < OutgoingPhase.MIGRATING.ordinal()) {
          boolean already = Migration.underWay(o.qmp().migration().status());
          if (!outgoing.advance(o, OutgoingPhase.MIGRATING, x -> x.withTimes(Instant.now(), null, null, null))) return;
          if (!already) migrate(o);
        }
      }
      monitor(o);
    } catch (RuntimeException e) {
      if (o.record.phase().ended()) return;
      log.warn("vm {} migration {}: {}", o.vm, o.record.migrationId(), e.getMessage());
      reconciler.abort(o, Qmp.describe(e));
    }
  }

  private void startMirrors(Outgoing o) {
    FaultPoints.reach(BEFORE_MIRRORS, o.vm);
    Qmp q = o.qmp();
    var nodes = q.nodes().names();
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      if (nodes.contains(m.node())) continue;
      q.nodes().addNbd(m.node(), o.record.nbd().host(), o.record.nbd().port(), m.export(),
          tls.outgoing(q, o.record.nbd().host()));
    }
    for (OutgoingRecord.Mirror m : o.record.mirrors()) {
      if (q.jobs().find(m.job()).isPresent()) continue;
      q.call(new BlockdevMirror(m.job(), m.device(), m.node(), BlockdevMirror.Sync.FULL,
          BlockdevMirror.CopyMode.WRITE_BLOCKING, false));
      log.info("vm {} migration {}: mirroring disk {} to nbd export {}", o.vm, o.record.migrationId(), m.disk(), m.export());
    }
  }

  /** True once every mirror is READY; false when the migration ended meanwhile (cancelled). */
  private boolean awaitMirrorsReady(Outgoing o) {
    long t0 = System.nanoTime();
    while (true) {
      if (o.record.phase() != OutgoingPhase.MIRRORING) return false;
      Map<String, BlockJobInfo> jobs = o.qmp().jobs().byId();
      boolean allReady = true;
      for (OutgoingRecord.Mirror m : o.record.mirrors()) {
        BlockJobInfo j = jobs.get(m.job());
        if (j == null || j.status().equals("concluded")) {
          String err = j == null ? "the job is gone" : Jobs.error(j);
          throw new AgentException(Kind.UNAVAILABLE, "mirror of disk " + m.disk() + " to the target failed: " + err);
        }
        allReady &= j.ready();
      }
      o.lastMirrors = OutgoingStats.progress(o.record.mirrors(), jobs);
      if (allReady) {
        log.info("vm {} migration {}: every mirror ready after {} ms", o.vm, o.record.migrationId(),
            (System.nanoTime() - t0) / 1_000_000);
        return true;
      }
      o.tick("BLOCK_JOB_READY");
    }
  }

  private void migrate(Outgoing o) {
    var caps = new LinkedHashMap<String, Boolean>();
    caps.put("events", true);
    caps.putAll(o.record.capabilities());
    if (!o.record.mirrors().isEmpty()) caps.put("pause-before-switchover", true);
    Qmp q = o.qmp();
    q.migration().setCapabilities(caps);
    var parameters = new LinkedHashMap<String, Object>(o.record.parameters());
    // an earlier migration's post-copy cap would otherwise hold in this one's post-copy (0: none)
    parameters.putIfAbsent("max-postcopy-bandwidth", 0L);
    parameters.putAll(tls.outgoing(q, StreamTls.uriHost(o.record.migrationUri())));
    if (!parameters.isEmpty()) q.migration().setParameters(parameters);
    q.call(new Migrate(o.record.migrationUri()));
    log.info("vm {} migration {}: migrate sent (capabilities {}, parameters {})", o.vm, o.record.migrationId(), caps,
        o.record.parameters());
  }

  /**
   * Polls query-migrate until the migration completed or ended, waking on every MIGRATION event;
   * what it saw last is what {@code GET outgoing} answers.
   */
  private void monitor(Outgoing o) {
    while (o.record.phase().blocksActions() && o.record.phase() != OutgoingPhase.COMPLETED) {
      MigrationInfo qm = o.qmp().migration().query();
      o.lastQm = qm;
      if (!o.record.mirrors().isEmpty() && o.record.phase() == OutgoingPhase.MIGRATING) {
        o.lastMirrors = OutgoingStats.progress(o.record.mirrors(), o.qmp().jobs().byId());
      }
      reconciler.reconcile(o, qm);
      if (o.record.phase() == OutgoingPhase.COMPLETED || o.record.phase().ended()) return;
      o.tick("MIGRATION");
    }
  }
}
