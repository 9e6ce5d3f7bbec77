package dev.ferry.agent.ftpair;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.ft.ColoDisks;
import dev.ferry.agent.ft.ColoPlumbing;
import dev.ferry.agent.migration.ListenPorts;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.LaunchOptions;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.Names;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.FtSecondaryRequest;
import dev.ferry.api.agent.FtSecondaryStatus;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.FtSecondaryHeartbeat;
import dev.ferry.api.agent.FtNicPorts;
import dev.ferry.agent.net.Bridges;
import dev.ferry.agent.net.Taps;
import dev.ferry.agent.qemu.NicSpec;
import dev.ferry.qmp.migration.AnnounceSelf;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpSubscription;
import java.nio.file.StandardCopyOption;
import java.time.InstantSource;
import dev.ferry.qmp.colo.QueryColoStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The COLO secondaries of this host, one directory each under {@code DIR/ft/NAME} (record,
 * overlays, QEMU run directory); the replicas lie in the pool the request names. A secondary is
 * not one of this host's VMs: it runs nothing of its own until a failover makes it the guest, so
 * it stays out of {@link Vms} (the controller would otherwise see the VM on two hosts).
 *
 * <p>Building is idempotent and persisted before each side effect: images first, the ports before
 * QEMU binds them, then QEMU ({@code -incoming defer}, paused) with the replication chain, then
 * {@link ColoPlumbing#listen}. A restarted agent re-adopts a live secondary QEMU.
 */
public final class FtSecondaries {

  private static final Logger log = LoggerFactory.getLogger(FtSecondaries.class);
  static final Duration START = Duration.ofSeconds(30);
  /** what a secondary that took over leaves in its directory instead of {@code secondary.json} */
  static final String TAKEN_OVER = "taken-over.json";

  private final Path root;
  private final Pools pools;
  private final Vms vms;
  private final QemuHost host;
  private final String address;
  private final ListenPorts ports;
  private final Map<String, QemuProcess> running = new ConcurrentHashMap<>();
  private final Map<String, HeartbeatListener> heartbeats = new ConcurrentHashMap<>();
  /** System.nanoTime() of each secondary's last RESUME (the end of a checkpoint load), or of when it was watched first */
  private final Map<String, Long> lastResume = new ConcurrentHashMap<>();
  private final Map<String, QmpSubscription> resumes = new ConcurrentHashMap<>();
  static final Duration TAKEOVER = Duration.ofSeconds(10);
  /** a fault test holds a takeover here, asked but not begun, e.g. to kill the controller that asked */
  public static final String BEFORE_TAKEOVER = "ft.before-takeover";

  public FtSecondaries(Path dataDir, Pools pools, Vms vms, QemuHost host, String address, ListenPorts ports) {
    this.root = dataDir.resolve("ft");
    this.pools = pools;
    this.vms = vms;
    this.host = host;
    this.address = address;
    this.ports = ports;
  }

  /** Re-adopts the secondary QEMUs an earlier agent left running. */
  public FtSecondaries load() {
    if (!Files.isDirectory(root)) return this;
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path dir : dirs.toList()) {
        Path file = dir.resolve("secondary.json");
        if (!Files.isRegularFile(file)) continue;
        try {
          SecondaryRecord r = JsonFiles.read(file, SecondaryRecord.class);
          QemuProcess.adopt(r.vm(), run(r.vm()), Duration.ofSeconds(10)).ifPresent(p -> {
            running.put(r.vm(), p);
            watch(r, p);
          });
          log.info("ft secondary of vm {}: {}", r.vm(), running.containsKey(r.vm()) ? "re-adopted" : "no qemu runs");
        } catch (RuntimeException e) {
          log.warn("ft secondary in {}: {}", dir, e.getMessage());
        }
      }
    } catch (IOException e) {
      log.warn("cannot list {}: {}", root, e.getMessage());
    }
    return this;
  }

  public synchronized FtSecondaryStatus prepare(String vm, FtSecondaryRequest req) {
    requireName(vm);
    if (vms.exists(vm)) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " is defined on this host; its secondary must run on another");
    }
    if (Files.isRegularFile(dir(vm).resolve(TAKEN_OVER))) {
      // an earlier secondary here took over and the VM has left this host since: its overlays hold
      // old writes and must not be reused under a new replica (create() keeps existing files)
      deleteTree(dir(vm));
    }
    AgentVmDefinition def = req.definition();
    if (def == null || !def.ft()) throw AgentException.badInput("definition.ft_ready", "false", "an ft-ready vm's definition");
    if (def.nics() != null) {
      for (int i = 0; i < def.nics().size(); i++) {
        String bridge = def.nics().get(i).bridge();
        if (!Bridges.exists(bridge)) {
          throw new AgentException(Kind.CONFLICT, "definition.nics[" + i + "]: bridge " + bridge + " of network "
              + def.nics().get(i).network() + " does not exist on this host; the secondary's nic needs it for a takeover");
        }
      }
    }
    Optional<SecondaryRecord> existing = record(vm);
    SecondaryRecord r = existing.orElseGet(() -> newRecord(vm, req));
    if (existing.isEmpty()) JsonFiles.write(dir(vm).resolve("secondary.json"), r);
    QemuProcess p = running.get(vm);
    if (p != null && p.isAlive()) return status(vm, r, p);
    for (CopyStorageDisk d : req.replicas()) {
      create(Path.of(r.replicas().get(d.disk())), d.format(), d.virtualSize());
      create(Path.of(r.hidden().get(d.disk())), "qcow2", d.virtualSize());
      create(Path.of(r.active().get(d.disk())), "qcow2", d.virtualSize());
    }
    List<AgentDisk> disks = def.disks().stream()
        .map(d -> new AgentDisk(d.id(), r.replicas().get(d.id()), formatOf(req, d.id()))).toList();
    VmSpec spec = vms.specOf(vm, def.withDisks(disks));
    var overlays = new LinkedHashMap<String, ColoDisks.Overlays>();
    for (var d : spec.disks()) {
      Path hidden = Path.of(r.hidden().get(d.id()));
      Path active = Path.of(r.active().get(d.id()));
      host.user().handOver(hidden);
      host.user().handOver(active);
      overlays.put(d.id(), new ColoDisks.Overlays(hidden, active));
    }
    var plan = new MemoryPlan(def.memoryBytes(), req.memoryGivenBytes(), Optional.empty());
    try {
      Files.createDirectories(run(vm).dir());
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create " + run(vm).dir() + ": " + e.getMessage(), e);
    }
    // the taps stay off the bridge: until a takeover the guest hears the network through the primary only
    p = QemuProcess.start(host.ft().installation(vm), spec, run(vm), new LaunchOptions(host.accelerator(), plan, true, true,
        true), START, host.user(), ColoDisks.secondary(overlays));
    running.put(vm, p);
    try {
      ColoPlumbing.listen(p.qmp(), spec.disks(), r.nics(), r.address(), r.nbdPort(), r.migrationPort());
    } catch (RuntimeException e) {
      p.kill();
      running.remove(vm);
      throw e;
    }
    watch(r, p);
    log.info("ft secondary of vm {} (primary {}): listening, nbd {}:{}, colo {}:{}", vm, req.primaryHost(), r.address(),
        r.nbdPort(), r.address(), r.migrationPort());
    return status(vm, r, p);
  }

  /** The primary's heartbeats heard, and checkpoints loaded, from now on; idempotent. */
  private void watch(SecondaryRecord r, QemuProcess p) {
    lastResume.putIfAbsent(r.vm(), System.nanoTime());
    resumes.computeIfAbsent(r.vm(), vm -> p.qmp().subscribe("RESUME", e -> lastResume.put(vm, System.nanoTime())));
    if (r.heartbeatPort() != null) {
      heartbeats.computeIfAbsent(r.vm(), vm -> HeartbeatListener.open(vm, r.heartbeatToken(), r.address(),
          r.heartbeatPort(), InstantSource.system()));
    }
  }

  /** What this host hears of the primary; asks no QEMU. 404 without a secondary (or a taken-over VM). */
  public FtSecondaryHeartbeat heartbeat(String vm) {
    if (Files.isRegularFile(dir(vm).resolve(TAKEN_OVER)) && vms.exists(vm)) {
      return new FtSecondaryHeartbeat(vm, vms.peek(vm).process().isPresent(), null, 0, false, 0, true);
    }
    SecondaryRecord r = record(vm).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "vm " + vm
        + " has no ft secondary on this host"));
    QemuProcess p = running.get(vm);
    HeartbeatListener hb = heartbeats.get(vm);
    Long resumed = lastResume.get(vm);
    return new FtSecondaryHeartbeat(vm, p != null && p.isAlive(), hb == null ? null : hb.lastHeardAt(),
        hb == null ? 0 : hb.silentMs(), ColoStream.established(r.migrationPort()),
        resumed == null ? 0 : (System.nanoTime() - resumed) / 1_000_000, false);
  }

  /**
   * The primary is gone: this secondary takes over and becomes this host's VM, running, same boot
   * (docs/ft.md, failover). It first stops answering the primary's heartbeats, so an old primary
   * that still lives but lost the controller fences itself. Idempotent: after a takeover it
   * answers the VM.
   */
  public synchronized AgentVmStatus takeover(String vm) {
    requireName(vm);
    if (Files.isRegularFile(dir(vm).resolve(TAKEN_OVER)) && vms.exists(vm)) return vms.status(vm);
    SecondaryRecord r = record(vm).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "vm " + vm
        + " has no ft secondary on this host"));
    QemuProcess p = running.get(vm);
    if (p == null || !p.isAlive()) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + ": no secondary qemu runs here to take over");
    }
    FaultPoints.reach(BEFORE_TAKEOVER, vm);
    long t0 = System.nanoTime();
    HeartbeatListener hb = heartbeats.get(vm);
    if (hb != null) hb.stopAnswering();
    try {
      ColoPlumbing.takeover(p.qmp(), r.nics().size(), TAKEOVER);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.UNAVAILABLE, "vm " + vm + ": interrupted while taking over", e);
    }
    long colo = System.nanoTime();
    AgentVmDefinition def = r.request().definition();
    List<AgentDisk> disks = def.disks().stream()
        .map(d -> new AgentDisk(d.id(), r.replicas().get(d.id()), formatOf(r.request(), d.id()))).toList();
    announce(vm, p, nics(r));
    QmpSubscription sub = resumes.remove(vm);
    if (sub != null) sub.close();
    var plan = new MemoryPlan(def.memoryBytes(), r.request().memoryGivenBytes(), Optional.empty());
    // the marker first: from here on the QEMU is the VM's, never a secondary's to kill
    try {
      Files.move(dir(vm).resolve("secondary.json"), dir(vm).resolve(TAKEN_OVER), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "vm " + vm + ": cannot mark the secondary taken over: " + e.getMessage(), e);
    }
    running.remove(vm);
    AgentVmStatus st = vms.adoptTakenOver(vm, def.withDisks(disks), plan, p);
    if (hb != null) {
      heartbeats.remove(vm);
      hb.close();
    }
    lastResume.remove(vm);
    log.info("ft secondary of vm {}: took over, guest running here ({} ms COLO failover, {} ms in all)", vm,
        (colo - t0) / 1_000_000, (System.nanoTime() - t0) / 1_000_000);
    return st;
  }

  /**
   * The survivor's NICs join their bridges and QEMU announces the guest's MACs from there, so the
   * bridge (or a real switch) forwards to this host at once rather than to the old primary's port,
   * which a frozen or cut-off primary keeps up. A failed announce is logged: the guest's own next
   * frame teaches the bridge too.
   */
  private static void announce(String vm, QemuProcess p, List<NicSpec> nics) {
    if (nics.isEmpty()) return;
    Taps.attach(vm, nics);
    try {
      p.qmp().call(new AnnounceSelf(0, 100, 3, 50), Duration.ofSeconds(5));
    } catch (QmpException e) {
      log.warn("vm {}: announce-self after the takeover: {}", vm, e.getMessage());
    }
  }

  public FtSecondaryStatus status(String vm) {
    SecondaryRecord r = record(vm).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "vm " + vm
        + " has no ft secondary on this host"));
    return status(vm, r, running.get(vm));
  }

  /** Kills the secondary QEMU and deletes its replica, overlays and directory; idempotent. */
  public synchronized void remove(String vm) {
    requireName(vm);
    QemuProcess p = running.remove(vm);
    if (p != null) p.kill();
    HeartbeatListener hb = heartbeats.remove(vm);
    if (hb != null) hb.close();
    QmpSubscription sub = resumes.remove(vm);
    if (sub != null) sub.close();
    lastResume.remove(vm);
    if (Files.isRegularFile(dir(vm).resolve(TAKEN_OVER))) {
      // the VM runs here from these images: only the leftovers of the pair go, once it no longer runs
      if (!vms.exists(vm)) deleteTree(dir(vm));
      return;
    }
    Optional<SecondaryRecord> r = record(vm);
    if (r.isPresent()) {
      Taps.down(vm, nics(r.get()));
      for (String image : r.get().replicas().values()) delete(Path.of(image));
    }
    deleteTree(dir(vm));
    if (!vms.exists(vm)) deleteTree(run(vm).dir().getParent());
    if (p != null || r.isPresent()) log.info("ft secondary of vm {}: removed", vm);
  }

  /** The secondary's NICs as this host names their taps; none when the definition no longer resolves. */
  private List<NicSpec> nics(SecondaryRecord r) {
    AgentVmDefinition def = r.request().definition();
    if (def.nics() == null || def.nics().isEmpty()) return List.of();
    try {
      List<AgentDisk> disks = def.disks().stream()
          .map(d -> new AgentDisk(d.id(), r.replicas().get(d.id()), formatOf(r.request(), d.id()))).toList();
      return vms.specOf(r.vm(), def.withDisks(disks)).nics();
    } catch (RuntimeException e) {
      log.warn("ft secondary of vm {}: its nics' taps cannot be named: {}", r.vm(), e.getMessage());
      return List.of();
    }
  }

  private FtSecondaryStatus status(String vm, SecondaryRecord r, QemuProcess p) {
    Long pid = p != null && p.isAlive() ? Long.valueOf(p.pid()) : null;
    String mode = null;
    if (pid != null) {
      try {
        mode = p.qmp().call(new QueryColoStatus(), Duration.ofSeconds(5)).mode();
      } catch (QmpException e) {
        log.debug("ft secondary of vm {}: query-colo-status: {}", vm, e.getMessage());
      }
    }
    return new FtSecondaryStatus(vm, r.address(), r.nbdPort(), r.migrationPort(), pid, mode, r.heartbeatPort(),
        r.heartbeatToken(), r.replicas(), r.nics());
  }

  private SecondaryRecord newRecord(String vm, FtSecondaryRequest req) {
    if (req.replicas() == null || req.replicas().size() != req.definition().disks().size()) {
      throw AgentException.badInput("replicas", String.valueOf(req.replicas()), "one per disk of the definition");
    }
    var replicas = new LinkedHashMap<String, String>();
    var hidden = new LinkedHashMap<String, String>();
    var active = new LinkedHashMap<String, String>();
    for (int i = 0; i < req.replicas().size(); i++) {
      CopyStorageDisk d = req.replicas().get(i);
      String f = "replicas[" + i + "]";
      Pool pool = pools.find(d.pool()).orElseThrow(() -> AgentException.badInput(f + ".pool", d.pool(), "a pool of this host"));
      pools.requireSpace(f + ".virtual_size", pool, d.virtualSize());
      replicas.put(d.disk(), pool.path().resolve(vm + "-" + d.disk() + "-replica." + d.format()).toString());
      hidden.put(d.disk(), dir(vm).resolve(d.disk() + "-hidden.qcow2").toString());
      active.put(d.disk(), dir(vm).resolve(d.disk() + "-active.qcow2").toString());
    }
    int nicCount = req.definition().nics() == null ? 0 : req.definition().nics().size();
    List<Integer> chosen = distinctPorts(3 + 2 * nicCount);
    var nicPorts = new ArrayList<FtNicPorts>();
    for (int i = 0; i < nicCount; i++) nicPorts.add(new FtNicPorts(chosen.get(3 + 2 * i), chosen.get(4 + 2 * i)));
    byte[] token = new byte[12];
    new java.security.SecureRandom().nextBytes(token);
    return new SecondaryRecord(vm, req, address, chosen.get(0), chosen.get(1), replicas, hidden, active, chosen.get(2),
        java.util.HexFormat.of().formatHex(token), List.copyOf(nicPorts));
  }

  /** {@code n} free ports of the range, all different: each probe releases its port, so a later pick may repeat one. */
  private List<Integer> distinctPorts(int n) {
    var out = new ArrayList<Integer>();
    for (int tries = 0; out.size() < n; tries++) {
      int p = ports.choose();
      if (!out.contains(p)) {
        out.add(p);
      } else if (tries > 10 * n) {
        throw new AgentException(Kind.UNAVAILABLE, "fewer than " + n + " free ports in the migration port range");
      }
    }
    return out;
  }

  private static String formatOf(FtSecondaryRequest req, String disk) {
    return req.replicas().stream().filter(d -> d.disk().equals(disk)).findFirst()
        .orElseThrow(() -> AgentException.badInput("replicas", disk, "one per disk of the definition")).format();
  }

  private void create(Path image, String format, long size) {
    if (Files.exists(image)) return;
    try {
      Files.createDirectories(image.getParent());
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create " + image.getParent() + ": " + e.getMessage(), e);
    }
    Subprocess.run(List.of(host.qemu().imgBinary().toString(), "create", "-q", "-f", format, image.toString(),
        Long.toString(size)), Duration.ofSeconds(60)).requireOk();
    host.user().handOver(image);
  }

  private Optional<SecondaryRecord> record(String vm) {
    Path f = dir(vm).resolve("secondary.json");
    return Files.isRegularFile(f) ? Optional.of(JsonFiles.read(f, SecondaryRecord.class)) : Optional.empty();
  }

  private Path dir(String vm) {
    return root.resolve(vm);
  }

  /**
   * Where the VM's run directory will be once it is this host's: the secondary QEMU starts there so
   * that a takeover turns it into the VM without moving its QMP socket or pid file.
   */
  private RunDir run(String vm) {
    return vms.runDirOf(vm);
  }

  private static void requireName(String vm) {
    if (!Names.valid(vm)) throw AgentException.badInput("name", vm, Names.RULE);
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", p, e.getMessage());
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) return;
    try (Stream<Path> files = Files.walk(dir)) {
      List<Path> all = new ArrayList<>(files.toList());
      all.sort(Comparator.reverseOrder());
      for (Path p : all) delete(p);
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", dir, e.getMessage());
    }
  }

  /** Drops the QMP connections; the secondary QEMUs keep running for the next agent. */
  public void detachAll() {
    heartbeats.values().forEach(HeartbeatListener::close);
    heartbeats.clear();
    resumes.values().forEach(QmpSubscription::close);
    resumes.clear();
    running.values().forEach(QemuProcess::close);
    running.clear();
  }
}
