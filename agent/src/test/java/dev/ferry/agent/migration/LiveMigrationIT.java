package dev.ferry.agent.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.agent.Agent;
import dev.ferry.agent.AgentConfig;
import dev.ferry.agent.HttpTestClient;
import dev.ferry.agent.HttpTestClient.Reply;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingPhase;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.NbdTarget;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration between two agents on one machine standing in for two hosts (pool {@code shared}
 * registered on both, pool {@code local} per agent), with real QEMU under TCG and the self-checking
 * guest. Two boots for the class: {@code web} on shared storage travels h1 → h2 → h1 and is then
 * used for the cancel and failure cases; {@code db} on local storage is copied h1 → h2.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LiveMigrationIT {

  static final String TOKEN = "it-token";
  static final long MEMORY = 256L << 20;
  static final long DISK = 16L << 20;
  static final String WORKLOADS = "ferry.mem=16:4 ferry.disk=1:8";
  static final Duration BOOT = Duration.ofSeconds(90);
  static final Map<String, Object> FAST = Map.of("max-bandwidth", 1L << 30, "downtime-limit", 300);
  static final Map<String, Object> SLOW = Map.of("max-bandwidth", 1L << 20);

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path data;

  static HttpServer controller;
  static Agent a1;
  static Agent a2;
  static HttpTestClient h1;
  static HttpTestClient h2;
  static Path shared;
  static HbWatcher web;

  @BeforeAll
  static void startAgents() throws Exception {
    controller = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    controller.createContext("/api/agents/heartbeat", ex -> {
      ex.getRequestBody().readAllBytes();
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    controller.start();
    shared = data.resolve("shared");
    Files.createDirectories(shared);
    TestGuest guest = TestGuest.get();
    Files.copy(guest.kernel(), shared.resolve("vmlinuz"));
    Files.copy(guest.initrd(), shared.resolve("initrd.img"));
    a1 = Agent.start(config("h1"));
    a2 = Agent.start(config("h2"));
    h1 = new HttpTestClient(a1.url(), TOKEN);
    h2 = new HttpTestClient(a2.url(), TOKEN);
    for (var h : List.of(h1, h2)) {
      assertThat(h.put("/agent/pools/shared", new AgentPoolRequest(shared.toString(), true)).status()).isEqualTo(201);
    }
    assertThat(h1.put("/agent/pools/local", new AgentPoolRequest(data.resolve("h1/local").toString(), false)).status()).isEqualTo(201);
    assertThat(h2.put("/agent/pools/local", new AgentPoolRequest(data.resolve("h2/local").toString(), false)).status()).isEqualTo(201);
  }

  static AgentConfig config(String name) {
    return AgentConfig.of(name, "127.0.0.1", 0, data.resolve(name), "http://127.0.0.1:" + controller.getAddress().getPort(), TOKEN)
        .withAccelerator(Accelerator.TCG).withHeartbeatInterval(Duration.ofSeconds(2))
        .withPoolRoots(List.of(data));
  }

  @AfterAll
  static void stopAgents() {
    if (web != null) web.close();
    if (a1 != null) a1.close();
    if (a2 != null) a2.close();
    if (controller != null) controller.stop(0);
  }

  static Path console(String host, String vm) {
    return data.resolve(host).resolve("vms").resolve(vm).resolve("run/console.log");
  }

  static AgentVmDefinition definition(String vm, Path disk) {
    return new AgentVmDefinition(vm, 1, MEMORY, "pc-q35-7.2", null, shared.resolve("vmlinuz").toString(),
        shared.resolve("initrd.img").toString(), TestGuest.append(WORKLOADS), List.of(new AgentDisk("disk0", disk.toString(), "qcow2")));
  }

  static AgentVmStatus boot(HttpTestClient h, String host, String vm, String pool) {
    Reply v = h.post("/agent/volumes", new VolumeCreateRequest(pool, vm + "-disk0.qcow2", DISK, "qcow2"));
    assertThat(v.status()).as(v.body()).isEqualTo(201);
    Path disk = Path.of(v.json().get("path").asText());
    assertThat(h.put("/agent/vms/" + vm, definition(vm, disk)).status()).isEqualTo(201);
    Reply r = h.post("/agent/vms/" + vm + "/start", null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    AgentVmStatus st = r.as(AgentVmStatus.class);
    owned.own(st.pid());
    var c = new GuestConsole(console(host, vm));
    c.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1 || d.block() > 0, BOOT);
    c.await(GuestLine.MemStatus.class, BOOT);
    return st;
  }

  /** What a controller does up to QEMU's completion (or the end given by {@code until}). */
  record Run(String id, IncomingReady ready, long targetPid) {}

  static Run begin(HttpTestClient from, HttpTestClient to, String vm, Path targetDiskOrNull, List<CopyStorageDisk> copy,
      Map<String, Object> params) {
    return begin(from, to, vm, targetDiskOrNull, copy, params, null);
  }

  static Run begin(HttpTestClient from, HttpTestClient to, String vm, Path targetDiskOrNull, List<CopyStorageDisk> copy,
      Map<String, Object> params, Boolean resumeOnArrival) {
    AgentVmStatus st = from.get("/agent/vms/" + vm).as(AgentVmStatus.class);
    String id = vm + "-" + System.nanoTime();
    AgentVmDefinition def = definition(vm, targetDiskOrNull);
    var in = new IncomingRequest(id, new AgentVmDefinition(def.name(), def.cpus(), def.memoryBytes(), st.machineType(),
        def.cpuModel(), def.kernel(), def.initrd(), def.append(), def.disks()), st.memoryGivenBytes(), Map.of(), params, copy,
        null, resumeOnArrival);
    Reply r = to.put("/agent/vms/" + vm + "/incoming", in);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    IncomingReady ready = r.as(IncomingReady.class);
    assertThat(to.put("/agent/vms/" + vm + "/incoming", in).as(IncomingReady.class)).as("idempotent").isEqualTo(ready);
    long pid = owned.own(to.get("/agent/vms/" + vm).as(AgentVmStatus.class).pid());
    NbdTarget nbd = ready.nbdPort() == null ? null : new NbdTarget(ready.nbdHost(), ready.nbdPort(), ready.exports());
    Reply o = from.post("/agent/vms/" + vm + "/outgoing", new OutgoingRequest(id, ready.migrationUri(), Map.of(), params, nbd));
    assertThat(o.status()).as(o.body()).isEqualTo(200);
    return new Run(id, ready, pid);
  }

  static MigrationStats awaitPhase(HttpTestClient from, String vm, String... phases) {
    var wanted = List.of(phases);
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200)).until(() ->
        wanted.contains(from.get("/agent/vms/" + vm + "/outgoing").json().get("phase").asText()));
    return from.get("/agent/vms/" + vm + "/outgoing").as(MigrationStats.class);
  }

  static void finishAndComplete(HttpTestClient from, HttpTestClient to, String vm, long sourcePid) {
    Reply f = to.post("/agent/vms/" + vm + "/incoming/finish", null);
    assertThat(f.status()).as(f.body()).isEqualTo(200);
    IncomingStatus is = f.as(IncomingStatus.class);
    assertThat(is.phase()).isEqualTo(IncomingPhase.FINISHED);
    assertThat(is.running()).isTrue();
    assertThat(to.post("/agent/vms/" + vm + "/incoming/finish", null).status()).as("idempotent").isEqualTo(200);
    Reply c = from.post("/agent/vms/" + vm + "/outgoing/complete", null);
    assertThat(c.status()).as(c.body()).isEqualTo(200);
    assertThat(c.json().get("phase").asText()).isEqualTo("handed_over");
    assertThat(from.post("/agent/vms/" + vm + "/outgoing/complete", null).status()).as("idempotent").isEqualTo(200);
    assertThat(ProcessHandle.of(sourcePid).map(ProcessHandle::isAlive).orElse(false)).as("source qemu gone").isFalse();
    assertThat(from.get("/agent/vms/" + vm).status()).isEqualTo(404);
    assertThat(to.get("/agent/vms/" + vm).as(AgentVmStatus.class).state()).isEqualTo(VmState.RUNNING);
  }

  static void report(String what, MigrationStats s) {
    System.out.printf("MIGRATION %s: status=%s total=%sms setup=%sms qemu-downtime=%sms observed-pause=%sms switchover=%sms"
            + " wall=%sms elapsed=%sms ram-transferred=%d ram-total=%d passes=%d mbps=%.1f mirrors=%s%n", what, s.status(), s.totalTimeMs(),
        s.setupTimeMs(), s.downtimeMs(), s.pauseMs(), s.switchoverMs(), s.wallTimeMs(), s.elapsedMs(), s.ramTransferredBytes(),
        s.ramTotalBytes(), s.passes(), s.mbps(), s.mirrors());
  }

  static void assertCleanAfter(Path console, Instant since) {
    var c = new GuestConsole(console);
    int memBefore = c.lines(GuestLine.MemStatus.class).size();
    int diskBefore = c.lines(GuestLine.DiskStatus.class).size();
    await().atMost(Duration.ofSeconds(30)).until(() -> c.lines(GuestLine.MemStatus.class).size() >= memBefore + 3
        && c.lines(GuestLine.DiskStatus.class).size() >= diskBefore + 3);
    assertThat(c.lines(GuestLine.MemStatus.class)).allSatisfy(m -> assertThat(m.errors()).as(c.tail(20)).isZero());
    assertThat(c.lines(GuestLine.DiskStatus.class)).allSatisfy(d -> assertThat(d.errors()).as(c.tail(20)).isZero());
    assertThat(c.lines(GuestLine.MemError.class)).isEmpty();
    assertThat(c.lines(GuestLine.DiskError.class)).isEmpty();
  }

  @Test
  @Order(0)
  void incoming_unsafeOrUnknownDeviceModel_isRefusedBeforeAnythingStarts() {
    AgentVmDefinition def = definition("web", shared.resolve("web-disk0.qcow2"));
    var alias = new IncomingRequest("m0", new AgentVmDefinition("web", 1, MEMORY, "q35", null, def.kernel(), def.initrd(),
        def.append(), def.disks()), MEMORY - 8 * 1024, Map.of(), Map.of(), List.of());
    var unknown = new IncomingRequest("m0", new AgentVmDefinition("web", 1, MEMORY, "pc-q35-99.0", null, def.kernel(),
        def.initrd(), def.append(), def.disks()), MEMORY - 8 * 1024, Map.of(), Map.of(), List.of());
    var bugSize = new IncomingRequest("m0", def, MEMORY, Map.of(), Map.of(), List.of());

    Reply a = h2.put("/agent/vms/web/incoming", alias);
    Reply u = h2.put("/agent/vms/web/incoming", unknown);
    Reply b = h2.put("/agent/vms/web/incoming", bugSize);

    assertThat(a.status()).as(a.body()).isEqualTo(400);
    assertThat(a.json().get("field").asText()).isEqualTo("definition.machine_type");
    assertThat(u.status()).as(u.body()).isEqualTo(400);
    assertThat(b.status()).as(b.body()).isEqualTo(400);
    assertThat(b.json().get("field").asText()).isEqualTo("memory_given_bytes");
    assertThat(h2.get("/agent/vms/web").status()).isEqualTo(404);
    assertThat(h2.get("/agent/vms/web/incoming").status()).isEqualTo(404);
  }

  @Test
  @Order(1)
  void sharedStorage_migrateAndFinish_guestContinuesOnTargetWithSameBoot() {
    long sourcePid = boot(h1, "h1", "web", "shared").pid();
    web = new HbWatcher(console("h1", "web"), console("h2", "web"));
    String bootId = new GuestConsole(console("h1", "web")).lastHeartbeat().orElseThrow().boot();
    assertCleanAfter(console("h1", "web"), Instant.now());

    // resume on arrival: the target runs the guest on its own QEMU's completed event, before anyone calls finish
    begin(h1, h2, "web", shared.resolve("web-disk0.qcow2"), List.of(), FAST, true);
    assertThat(h1.post("/agent/vms/web/stop", null).status()).as("stop while outgoing").isEqualTo(409);
    MigrationStats s = awaitPhase(h1, "web", "completed", "failed", "cancelled");
    assertThat(s.phase()).as(s.error()).isEqualTo(OutgoingPhase.COMPLETED);
    report("shared", s);
    await().atMost(Duration.ofSeconds(10))
        .until(() -> h2.get("/agent/vms/web/incoming").as(IncomingStatus.class).phase() == IncomingPhase.FINISHED);
    IncomingStatus arrived = h2.get("/agent/vms/web/incoming").as(IncomingStatus.class);
    assertThat(arrived.running()).as("running on arrival, before any finish").isTrue();
    assertThat(arrived.resumedAt()).isNotNull();
    assertThat(h1.post("/agent/vms/web/start", null).status()).as("start after completed").isEqualTo(409);
    finishAndComplete(h1, h2, "web", sourcePid);

    var target = new GuestConsole(console("h2", "web"));
    GuestLine.Heartbeat hb = target.await(GuestLine.Heartbeat.class, Duration.ofSeconds(15));
    assertThat(hb.boot()).as("same boot: the guest moved, it did not restart").isEqualTo(bootId);
    target.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(15));
    System.out.printf("MIGRATION shared: largest heartbeat gap %d ms%n", web.maxGapMs());
    assertThat(web.maxGapMs()).as("heartbeat gap").isLessThan(5_000);
    assertCleanAfter(console("h2", "web"), Instant.now());
    assertThat(shared.resolve("web-disk0.qcow2")).as("shared disk kept").exists();
  }

  @Test
  @Order(2)
  void sharedStorage_targetNotFinished_sourceAndTargetMemoryIdenticalPageByPage() {
    long sourcePid = h2.get("/agent/vms/web").as(AgentVmStatus.class).pid();
    web.close();
    web = new HbWatcher(console("h2", "web"), console("h1", "web"));

    begin(h2, h1, "web", shared.resolve("web-disk0.qcow2"), List.of(), FAST);
    MigrationStats s = awaitPhase(h2, "web", "completed", "failed", "cancelled");
    assertThat(s.phase()).as(s.error()).isEqualTo(OutgoingPhase.COMPLETED);
    report("shared-back", s);
    IncomingStatus in = h1.get("/agent/vms/web/incoming").as(IncomingStatus.class);
    assertThat(in.migrationStatus()).isEqualTo(QemuMigrationStatus.COMPLETED);
    assertThat(in.running()).as("target stays paused until finish").isFalse();

    MemoryDigest src = h2.get("/agent/vms/web/memory-digest").as(MemoryDigest.class);
    MemoryDigest dst = h1.get("/agent/vms/web/memory-digest").as(MemoryDigest.class);
    assertThat(dst.sizeBytes()).isEqualTo(src.sizeBytes()).isEqualTo(MEMORY - 8 * 1024);
    byte[] a = Base64.getDecoder().decode(src.pageDigests());
    byte[] b = Base64.getDecoder().decode(dst.pageDigests());
    assertThat(b.length).isEqualTo(a.length).isEqualTo((int) (src.sizeBytes() / 4096) * 8);
    var differing = new ArrayList<Integer>();
    for (int p = 0; p < a.length / 8; p++) {
      if (!java.util.Arrays.equals(a, p * 8, p * 8 + 8, b, p * 8, p * 8 + 8)) differing.add(p);
    }
    System.out.printf("MIGRATION shared-back: %d pages compared, %d differ%n", a.length / 8, differing.size());
    assertThat(differing).as("pages differing between source and target").isEmpty();

    finishAndComplete(h2, h1, "web", sourcePid);
    assertCleanAfter(console("h1", "web"), Instant.now());
  }

  @Test
  @Order(3)
  void copyStorage_localDisk_targetImageIdenticalAndGuestDiskClean() throws Exception {
    long sourcePid = boot(h1, "h1", "db", "local").pid();
    Path sourceImage = data.resolve("h1/local/db-disk0.qcow2");
    Path targetImage = data.resolve("h2/local/db-disk0.qcow2");
    var hb = new HbWatcher(console("h1", "db"), console("h2", "db"));
    String bootId = new GuestConsole(console("h1", "db")).lastHeartbeat().orElseThrow().boot();

    Run run = begin(h1, h2, "db", sourceImage, List.of(new CopyStorageDisk("disk0", "local", "qcow2", DISK)), FAST);
    assertThat(run.ready().nbdPort()).isNotNull();
    assertThat(run.ready().exports()).containsKey("disk0");
    MigrationStats s = awaitPhase(h1, "db", "completed", "failed", "cancelled");
    assertThat(s.phase()).as(s.error()).isEqualTo(OutgoingPhase.COMPLETED);
    report("copy-storage", s);
    assertThat(s.switchoverMs()).isNotNull();

    // both QEMUs paused: the source postmigrate, the target not yet finished
    assertThat(h1.get("/agent/vms/db").as(AgentVmStatus.class).state()).isEqualTo(VmState.PAUSED);
    assertThat(h2.get("/agent/vms/db/incoming").as(IncomingStatus.class).running()).isFalse();
    Process cmp = new ProcessBuilder("qemu-img", "compare", "-U", "-f", "qcow2", "-F", "qcow2", sourceImage.toString(),
        targetImage.toString()).redirectErrorStream(true).start();
    String out = new String(cmp.getInputStream().readAllBytes());
    assertThat(cmp.waitFor()).as(out).isZero();

    finishAndComplete(h1, h2, "db", sourcePid);
    assertThat(sourceImage).as("source image kept by default").exists();
    var target = new GuestConsole(console("h2", "db"));
    GuestLine.Heartbeat first = target.await(GuestLine.Heartbeat.class, Duration.ofSeconds(15));
    assertThat(first.boot()).as("same boot: the guest moved, it did not restart").isEqualTo(bootId);
    target.awaitHeartbeatAfter(first.seq() + 2, Duration.ofSeconds(15));
    System.out.printf("MIGRATION copy-storage: largest heartbeat gap %d ms%n", hb.maxGapMs());
    assertThat(hb.maxGapMs()).as("heartbeat gap").isLessThan(5_000);
    hb.close();
    assertCleanAfter(console("h2", "db"), Instant.now());
    assertThat(h2.post("/agent/vms/db/stop?timeout_ms=20000", null).status()).isEqualTo(200);
  }

  @Test
  @Order(4)
  void cancel_duringSlowMigration_sourceKeepsRunningAndTargetRollsBack() {
    Run run = begin(h1, h2, "web", shared.resolve("web-disk0.qcow2"), List.of(), SLOW);
    await().atMost(Duration.ofSeconds(30)).until(() -> h1.get("/agent/vms/web/outgoing").json().get("status").asText().equals("active"));
    long seq = new GuestConsole(console("h1", "web")).lastHeartbeat().orElseThrow().seq();
    // the controller's mid-flight escalation reaches qemu: it takes a steeper throttle, refuses an impossible one
    Reply tuned = h1.post("/agent/vms/web/outgoing/parameters",
        new MigrationTuning(Map.of("cpu-throttle-increment", 25, "max-bandwidth", 2L << 20)));
    assertThat(tuned.status()).as(tuned.body()).isEqualTo(200);
    Reply refused = h1.post("/agent/vms/web/outgoing/parameters", new MigrationTuning(Map.of("cpu-throttle-increment", 150)));
    assertThat(refused.status()).as(refused.body()).isEqualTo(409);
    assertThat(refused.body()).as("qemu's own words").contains("cpu_throttle_increment");
    Reply notTunable = h1.post("/agent/vms/web/outgoing/parameters", new MigrationTuning(Map.of("multifd-channels", 4)));
    assertThat(notTunable.status()).isEqualTo(400);
    assertThat(notTunable.body()).contains("parameters.multifd-channels");

    Reply c = h1.post("/agent/vms/web/outgoing/cancel", null);

    assertThat(c.status()).as(c.body()).isEqualTo(200);
    assertThat(c.json().get("phase").asText()).isEqualTo("cancelled");
    assertThat(h1.get("/agent/vms/web").as(AgentVmStatus.class).state()).isEqualTo(VmState.RUNNING);
    new GuestConsole(console("h1", "web")).awaitHeartbeatAfter(seq + 2, Duration.ofSeconds(15));
    assertThat(h2.delete("/agent/vms/web/incoming").status()).isEqualTo(204);
    assertThat(h2.delete("/agent/vms/web/incoming").status()).as("idempotent").isEqualTo(204);
    await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(run.targetPid()).map(p -> !p.isAlive()).orElse(true));
    assertThat(h2.get("/agent/vms/web").status()).isEqualTo(404);
    assertThat(data.resolve("h2/local/web-disk0.qcow2")).doesNotExist();
    assertThat(data.resolve("h2/vms/web")).doesNotExist();
    Reply start = h1.post("/agent/vms/web/start", null);
    assertThat(start.status()).isEqualTo(409);
    assertThat(start.body()).as("the migration guard is lifted: only 'already running' stops a start").contains("already running");
  }

  @Test
  @Order(5)
  void targetKilled_midMigration_sourceFailsAndKeepsRunning() {
    Run run = begin(h1, h2, "web", shared.resolve("web-disk0.qcow2"), List.of(), SLOW);
    await().atMost(Duration.ofSeconds(30)).until(() -> h1.get("/agent/vms/web/outgoing").json().get("status").asText().equals("active"));
    long seq = new GuestConsole(console("h1", "web")).lastHeartbeat().orElseThrow().seq();

    ProcessHandle.of(run.targetPid()).orElseThrow().destroyForcibly();

    MigrationStats s = awaitPhase(h1, "web", "failed", "completed", "cancelled");
    assertThat(s.phase()).isEqualTo(OutgoingPhase.FAILED);
    assertThat(s.error()).isNotBlank();
    assertThat(h1.get("/agent/vms/web").as(AgentVmStatus.class).state()).isEqualTo(VmState.RUNNING);
    new GuestConsole(console("h1", "web")).awaitHeartbeatAfter(seq + 2, Duration.ofSeconds(15));
    assertThat(h2.delete("/agent/vms/web/incoming").status()).isEqualTo(204);
    assertThat(h2.get("/agent/vms/web").status()).isEqualTo(404);
  }

  /** Records when each heartbeat first appeared in any of a guest's consoles (source, then target). */
  static final class HbWatcher implements AutoCloseable {
    final GuestConsole consoles;
    final Map<Long, Long> firstSeenMs = new ConcurrentSkipListMap<>();
    final Thread thread;
    volatile boolean stop;

    HbWatcher(Path... logs) {
      consoles = new GuestConsole(logs);
      thread = Thread.ofPlatform().daemon().start(() -> {
        while (!stop) {
          long now = System.currentTimeMillis();
          try {
            for (GuestLine.Heartbeat h : consoles.lines(GuestLine.Heartbeat.class)) firstSeenMs.putIfAbsent(h.seq(), now);
            Thread.sleep(100);
          } catch (InterruptedException e) {
            return;
          } catch (Throwable e) {
            // a console deleted under us (the source forgot the vm); counted, the next poll reads again
            failures.incrementAndGet();
          }
        }
      });
    }

    final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();

    /** The largest wall-clock gap between two successive heartbeats' first sightings; needs a few sightings. */
    long maxGapMs() {
      assertThat(firstSeenMs.size()).as("heartbeats watched (%d read failures)", failures.get()).isGreaterThanOrEqualTo(5);
      long max = 0;
      Long prev = null;
      for (long t : new TreeMap<>(firstSeenMs).values()) {
        if (prev != null) max = Math.max(max, t - prev);
        prev = t;
      }
      return max;
    }

    @Override
    public void close() {
      stop = true;
    }
  }
}
