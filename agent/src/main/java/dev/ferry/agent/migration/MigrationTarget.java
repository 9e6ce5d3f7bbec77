package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.qmp.Migration;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.VmHandle;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.migration.AnnounceSelf;
import dev.ferry.qmp.migration.MigrateIncoming;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of live migrations (libvirt's {@code qemuMigrationDst*}).
 *
 * <p>Design: {@code PUT incoming} records the NBD and migration ports (from the agent's
 * {@link PortRange}), exports and image paths it will use before making any of them (a port
 * taken meanwhile is chosen again, {@link ListenPorts}), then creates the empty
 * images of copied disks, defines the VM with the source's device model
 * ({@link IncomingDefinition}), starts QEMU with {@code -incoming defer -S}, exports the copied
 * disks over NBD, sets capabilities and parameters and only then {@code migrate-incoming}
 * (qemu-notes). With TLS ({@link StreamTls}) both listeners let in only the source host's
 * certificate, the NBD server one connection per export. Each step observes before it acts, so a repeated request
 * answers the same ports. The guest stays paused until {@code finish}: the point of no return,
 * after which the VM is an ordinary VM of this host. Before it, {@code DELETE} kills the target
 * QEMU and deletes exactly the images this migration created. A post-copy whose stream broke is
 * reconnected by {@link PostcopyRecovery}, under the same per-VM lock.
 */
// the per-VM migration lock is held by try-with-resources and never referenced inside
@SuppressWarnings("try")
final class MigrationTarget {

  private static final Logger log = LoggerFactory.getLogger(MigrationTarget.class);

  /** fault point: the stream completed, the guest is not resumed here yet (nothing sent to QEMU) */
  static final String BEFORE_RESUME = "incoming.before-resume";

  /**
   * QEMU's own announce defaults (50 ms, then 150, 250, 350, 450 ms: 5 rounds within 550 ms), sent
   * explicitly once the guest runs here: QEMU's automatic announce after an incoming migration
   * fires on its timer even while the target is still paused ({@code -S}), when the frames only
   * queue, and Ferry wants what was sent in the migration record.
   */
  static final AnnounceSelf ANNOUNCE = new AnnounceSelf(50, 550, 5, 100);

  private final Vms vms;
  /** what was announced, by migration id: finish runs twice under post-copy and must announce once */
  private final Map<String, String> announced = new java.util.concurrent.ConcurrentHashMap<>();
  /** when the guest's cont was answered, by migration id: the end of the pause clients see */
  private final Map<String, java.time.Instant> resumed = new java.util.concurrent.ConcurrentHashMap<>();
  private final IncomingDefinition definition;
  private final MigrationStore store;
  private final Busy busy;
  private final String address;
  private final ListenPorts ports;
  private final StreamTls tls;
  private final MigrationLocks locks = new MigrationLocks("incoming");
  private final AutoResume autoResume = new AutoResume(this::finish);
  private final IncomingMonitor monitor = new IncomingMonitor();
  private final QemuHost host;

  /**
   * @param address the address of this host the source connects to (migration stream and NBD)
   * @param range   the ports those listeners take
   * @param tls     TLS on both streams, letting in only the source host's certificate
   */
  MigrationTarget(Vms vms, Pools pools, QemuHost host, MigrationStore store, Busy busy, String address, PortRange range,
      StreamTls tls) {
    this.vms = vms;
    this.host = host;
    this.definition = new IncomingDefinition(host, pools);
    this.store = store;
    this.busy = busy;
    this.address = address;
    this.ports = new ListenPorts(address, range);
    this.tls = tls;
  }

  /** The per-VM lock of this side's requests, waited for at most {@link Vms#ACTION_WAIT}, as a VM action. */
  MigrationLocks.Held lock(String vm, String what) {
    return locks.take(vm, what, Vms.ACTION_WAIT);
  }

  IncomingReady prepare(String name, IncomingRequest req) {
    Requests.validate(req);
    if (req.capabilities() != null && Boolean.TRUE.equals(req.capabilities().get("postcopy-ram"))) {
      // the target is the side that needs a userfaultfd; say so before any QEMU starts, not as a QMP error
      String why = host.user().postcopyProblem();
      if (why != null) throw AgentException.badInput("capabilities.postcopy-ram", "true", "false on this host: " + why);
    }
    if (tls.on() && req.sourceHost() == null) {
      throw new AgentException(Kind.INVALID, "incoming migration " + req.migrationId() + " of vm " + name + " names no"
          + " source_host: this host encrypts migration streams and lets in only the source host's certificate");
    }
    AgentVmDefinition def = req.definition();
    MemoryPlan plan = definition.plan(req);
    definition.machineType(def);
    try (MigrationLocks.Held held = lock(name, "prepare the incoming migration")) {
      Optional<IncomingRecord> existing = store.incoming(name);
      if (existing.isPresent() && existing.get().migrationId().equals(req.migrationId())
          && existing.get().phase() != IncomingPhase.PREPARING) {
        return ready(existing.get()); // a repeated request
      }
      if (existing.isPresent() && !existing.get().migrationId().equals(req.migrationId())
          && existing.get().phase().blocksActions()) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " is already arriving by migration "
            + existing.get().migrationId());
      }
      if (vms.exists(name) && existing.filter(r -> r.migrationId().equals(req.migrationId())).isEmpty()) {
        throw new AgentException(Kind.CONFLICT, "vm " + name + " already exists on this host");
      }
      IncomingRecord rec = existing.orElseGet(() -> newRecord(name, req));
      store.write(name, rec);
      store.forgetArchive(name);
      busy.set(name, true, "it is arriving by live migration (migration " + rec.migrationId() + ")");
      try {
        rec = setUp(name, req, rec, plan);
      } catch (RuntimeException e) {
        log.warn("vm {} migration {}: preparing the target failed, rolling back: {}", name, rec.migrationId(), e.getMessage());
        try {
          rollBack(name);
        } catch (RuntimeException r) {
          log.warn("vm {} migration {}: rollback: {}", name, rec.migrationId(), r.getMessage());
        }
        throw e;
      }
      IncomingRecord listening = advance(name, rec, IncomingPhase.LISTENING);
      vms.peek(name).process().ifPresent(p -> monitor.watch(name, p));
      log.info("vm {} migration {}: target listening on {}{}", name, rec.migrationId(), listening.migrationUri(),
          rec.nbdPort() == null ? "" : ", nbd " + address + ":" + rec.nbdPort() + " exports " + rec.exports().values());
      return ready(listening);
    }
  }

  private IncomingRecord newRecord(String name, IncomingRequest req) {
    var exports = new LinkedHashMap<String, String>();
    var images = new ArrayList<String>();
    for (CopyStorageDisk d : IncomingDefinition.copies(req)) {
      Path image = definition.newImage(name, d);
      exports.put(d.disk(), d.disk());
      images.add(image.toString());
    }
    return new IncomingRecord(IncomingRecord.ROLE, req.migrationId(), IncomingPhase.PREPARING, address, 0,
        exports.isEmpty() ? null : ports.choose(), exports, images, req.capabilities(), req.parameters(), req.memoryGivenBytes(),
        null, null);
  }

  /** The steps of prepare, each observing before it acts; answers the record with the ports QEMU listens on. */
  private IncomingRecord setUp(String name, IncomingRequest req, IncomingRecord rec, MemoryPlan plan) {
    List<CopyStorageDisk> copies = IncomingDefinition.copies(req);
    Map<String, String> paths = new LinkedHashMap<>();
    for (int i = 0; i < copies.size(); i++) {
      CopyStorageDisk d = copies.get(i);
      Path image = Path.of(rec.createdImages().get(i));
      if (!Files.exists(image)) definition.createImage(image, IncomingDefinition.format(d), d.virtualSize());
      paths.put(d.disk(), image.toString());
    }
    if (!vms.exists(name)) vms.define(name, IncomingDefinition.withPaths(req.definition(), paths, copies));
    vms.withVm(name, h -> {
      if (h.process().isEmpty()) h.startIncoming(plan);
      return null;
    });
    VmHandle h = vms.peek(name);
    QemuProcess p = h.process().orElseThrow(() -> new AgentException(Kind.UNAVAILABLE, "target qemu of vm " + name + " is gone"));
    var q = new Qmp(p.qmp());
    // TLS objects first: the NBD server and the migration parameters name them
    Map<String, Object> streamTls = tls.incoming(q, req.sourceHost());
    if (!rec.exports().isEmpty()) {
      var persisted = new AtomicReference<>(rec);
      int connections = rec.exports().size();
      ports.listen("the nbd server of vm " + name, rec.nbdPort(),
          port -> store.write(name, persisted.updateAndGet(r -> r.withNbdPort(port))),
          port -> q.nbdServer().startTcp(address, port, tls.nbdServer(connections)));
      rec = persisted.get();
      List<String> present = q.exports().ids();
      for (var e : rec.exports().entrySet()) {
        if (present.contains(e.getValue())) continue;
        q.exports().add(e.getValue(), h.nodes(h.disk(e.getKey())).format(), true, List.of());
      }
    }
    // capabilities and parameters before migrate-incoming (qemu-notes)
    var caps = new LinkedHashMap<String, Boolean>();
    caps.put("events", true);
    caps.putAll(rec.capabilities());
    q.migration().setCapabilities(caps);
    var parameters = new LinkedHashMap<String, Object>(rec.parameters());
    parameters.putAll(streamTls);
    q.migration().setParameters(parameters);
    boolean onArrival = Boolean.TRUE.equals(req.resumeOnArrival());
    if (onArrival || Boolean.TRUE.equals(rec.capabilities().get("postcopy-ram"))) autoResume.arm(name, p, onArrival);
    // a port of the range, persisted before QEMU binds it; a QEMU started anew (the last one
    // died before listening) listens on the recorded port again, or a new one when it is taken
    if (q.migration().status() == QemuMigrationStatus.NONE) {
      if (rec.migrationPort() == 0) {
        rec = rec.withMigrationPort(ports.choose());
        store.write(name, rec);
      }
      var persisted = new AtomicReference<>(rec);
      ports.listen("the incoming migration of vm " + name, rec.migrationPort(),
          port -> store.write(name, persisted.updateAndGet(r -> r.withMigrationPort(port))),
          port -> q.call(new MigrateIncoming(persisted.get().withMigrationPort(port).migrationUri())));
      rec = persisted.get();
    }
    int port = q.migration().incomingPort().orElse(rec.migrationPort());
    if (port == 0) {
      throw new AgentException(Kind.INTERNAL, "target qemu of vm " + name + " listens for migration " + rec.migrationId()
          + " but query-migrate names no port");
    }
    if (port != rec.migrationPort()) {
      rec = rec.withMigrationPort(port);
      store.write(name, rec);
    }
    return rec;
  }

  IncomingStatus status(String name) {
    IncomingRecord r = store.incoming(name).orElseThrow(() -> noMigration(name));
    Optional<QemuProcess> p = vms.exists(name) ? vms.peek(name).process() : Optional.empty();
    if (p.isEmpty() || !p.get().isAlive()) {
      return new IncomingStatus(r.migrationId(), r.phase(), QemuMigrationStatus.GONE, false, "gone", null, r.error());
    }
    IncomingMonitor.Seen seen = monitor.seen(name, p.get());
    MigrationInfo qm = seen.migration();
    QueryStatus.StatusInfo rs = seen.run();
    String err = qm.errorDesc().orElse(r.error());
    return new IncomingStatus(r.migrationId(), r.phase(), Migration.status(qm), rs.running(), rs.status(),
        p.get().pid(), err, announced.get(r.migrationId()), resumed.get(r.migrationId()));
  }

  private void resume(String migrationId, Qmp q) {
    if (q.runState().running()) return;
    q.call(new Cont());
    resumed.putIfAbsent(migrationId, java.time.Instant.now());
  }

  /**
   * After the guest resumed here: the bridges and switches must forward its MACs to this host's
   * taps at once, not when the guest next happens to send. Best-effort: a failure is logged, and
   * the guest's own traffic teaches the network too.
   */
  private void announce(String name, String migrationId, Qmp q) {
    if (announced.containsKey(migrationId)) return;
    var nics = vms.peek(name).spec().nics();
    if (nics.isEmpty()) return;
    try {
      q.call(ANNOUNCE);
      String sent = ANNOUNCE.describe() + " for " + String.join(", ", nics.stream().map(n -> n.mac() + " on " + n.tap())
          .toList());
      announced.put(migrationId, sent);
      log.info("vm {} migration {}: {}", name, migrationId, sent);
    } catch (RuntimeException e) {
      log.warn("vm {} migration {}: announce-self failed: {}", name, migrationId, e.getMessage());
    }
  }

  /**
   * After QEMU completed: NBD exports and server removed, {@code cont}; the VM is this host's from
   * now on. During post-copy it only resumes the guest (the point of no return came with the
   * switch); call it again after completion to finish.
   */
  IncomingStatus finish(String name) {
    try (MigrationLocks.Held held = lock(name, "finish the incoming migration")) {
      IncomingRecord r = store.incoming(name).orElseThrow(() -> noMigration(name));
      switch (r.phase()) {
        case FINISHED -> {
          return status(name);
        }
        case ROLLED_BACK, PREPARING -> throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm "
            + name + " is " + r.phase().wire() + " on this host; nothing to finish");
        case LISTENING, RESUMING -> { }
      }
      Optional<QemuProcess> live = vms.peek(name).process().filter(QemuProcess::isAlive);
      if (live.isEmpty()) return finishGone(name, r);
      QemuProcess p = live.get();
      var q = new Qmp(p.qmp());
      QemuMigrationStatus st = q.migration().status();
      if (st != QemuMigrationStatus.COMPLETED) {
        if (!st.postcopy()) {
          throw new AgentException(Kind.CONFLICT, "incoming migration " + r.migrationId() + " of vm " + name + " is " + st
              + "; finish only after it completed, or once post-copy runs");
        }
        // post-copy: the guest must run here while its remaining pages arrive, or it runs nowhere;
        // the exports are removed by the finish that follows completion
        if (r.phase() == IncomingPhase.LISTENING) r = advance(name, r, IncomingPhase.RESUMING);
        resume(r.migrationId(), q);
        announce(name, r.migrationId(), q);
        monitor.refresh(name, p);
        log.info("vm {} migration {}: guest resumed on this host during post-copy", name, r.migrationId());
        return status(name);
      }
      FaultPoints.reach(BEFORE_RESUME, name);
      if (!p.isAlive()) return finishGone(name, r);
      long t0 = System.nanoTime();
      // point of no return: from here the guest runs on this host
      if (r.phase() == IncomingPhase.LISTENING) r = advance(name, r, IncomingPhase.RESUMING);
      for (String export : r.exports().values()) q.exports().deleteIfPresent(export, true);
      if (!r.exports().isEmpty()) q.nbdServer().stopIfRunning();
      resume(r.migrationId(), q);
      announce(name, r.migrationId(), q);
      advance(name, r, IncomingPhase.FINISHED);
      monitor.unwatch(name);
      autoResume.disarm(name);
      busy.set(name, false, null);
      log.info("vm {} migration {}: finished; guest resumed on this host {} ms after the request", name, r.migrationId(),
          (System.nanoTime() - t0) / 1_000_000);
      return status(name);
    }
  }

  /**
   * The target QEMU died during the finish. Still {@code listening}: no {@code cont} was ever sent,
   * the guest never ran here and the source's copy is whole: refused, so the controller gives the
   * guest back to the source and rolls this side back. {@code resuming}: the guest may have run and
   * written here, so it is this host's vm from now on, crashed, never resumed elsewhere.
   */
  private IncomingStatus finishGone(String name, IncomingRecord r) {
    if (r.phase() == IncomingPhase.LISTENING) {
      throw new AgentException(Kind.CONFLICT, "target qemu of vm " + name + " is gone before its guest ever ran here;"
          + " the source keeps the guest: roll back with DELETE");
    }
    advance(name, r, IncomingPhase.FINISHED);
    monitor.unwatch(name);
    autoResume.disarm(name);
    busy.set(name, false, null);
    log.warn("vm {} migration {}: target qemu died after the resume began; the vm stays on this host, crashed", name,
        r.migrationId());
    return status(name);
  }

  /** Kills the target QEMU and deletes the images this migration created; refused after finish; idempotent. */
  void rollBack(String name) {
    try (MigrationLocks.Held held = lock(name, "roll back the incoming migration")) {
      Optional<IncomingRecord> rec = store.incoming(name);
      if (rec.isEmpty()) {
        if (vms.exists(name)) {
          throw new AgentException(Kind.CONFLICT, "vm " + name + " on this host is not arriving by migration");
        }
        return;
      }
      IncomingRecord r = rec.get();
      if (r.phase() == IncomingPhase.RESUMING || r.phase() == IncomingPhase.FINISHED) {
        throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name
            + " was finished here; the guest runs on this host now");
      }
      // a repeat (an agent that died half-way through a rollback) finishes the cleanup below
      if (r.phase() != IncomingPhase.ROLLED_BACK) advance(name, r, IncomingPhase.ROLLED_BACK);
      monitor.unwatch(name);
      autoResume.disarm(name);
      if (vms.exists(name)) {
        vms.withVm(name, h -> h.process().isPresent() ? h.kill() : null);
      }
      for (String image : r.createdImages()) {
        try {
          Files.deleteIfExists(Path.of(image));
          log.info("vm {} migration {}: deleted target image {}", name, r.migrationId(), image);
        } catch (IOException e) {
          log.warn("vm {} migration {}: cannot delete target image {}: {}", name, r.migrationId(), image, e.getMessage());
        }
      }
      vms.forget(name);
      store.delete(name);
      busy.set(name, false, null);
      store.deleteVmDirIfEmpty(name);
      log.info("vm {} migration {}: target rolled back", name, r.migrationId());
    }
  }

  /** Compare-and-set of the phase, persisted before the caller acts on it. */
  private IncomingRecord advance(String name, IncomingRecord r, IncomingPhase next) {
    if (!r.phase().canMoveTo(next)) {
      throw new AgentException(Kind.CONFLICT, "migration " + r.migrationId() + " of vm " + name + " is " + r.phase().wire()
          + " on this host and cannot go to " + next.wire());
    }
    IncomingRecord moved = r.withPhase(next);
    store.write(name, moved);
    log.info("vm {} migration {}: {} -> {}", name, r.migrationId(), r.phase().wire(), next.wire());
    return moved;
  }

  /** Marks the VMs still arriving at agent start. */
  void recover(String name) {
    store.incoming(name).ifPresent(r -> {
      busy.set(name, r.phase().blocksActions(), "it is arriving by live migration (migration " + r.migrationId() + ")");
      if (r.phase() == IncomingPhase.LISTENING || r.phase() == IncomingPhase.RESUMING) {
        vms.peek(name).process().filter(QemuProcess::isAlive).ifPresent(p -> monitor.watch(name, p));
      }
    });
  }

  private IncomingReady ready(IncomingRecord r) {
    return new IncomingReady(r.migrationId(), r.migrationUri(), r.nbdPort() == null ? null : r.host(), r.nbdPort(),
        r.exports());
  }

  /** The ports of QEMU listeners that cannot bind port 0 (NBD server, post-copy recovery). */
  ListenPorts ports() {
    return ports;
  }

  static AgentException noMigration(String name) {
    return new AgentException(Kind.NOT_FOUND, "vm " + name + " has no incoming migration on this host");
  }
}
