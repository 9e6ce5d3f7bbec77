package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.agent.HttpTestClient.Reply;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorState;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults injected into real processes on the agent side (issue 9 B4–B6): QEMU SIGKILLed during a
 * storage pivot, QEMU SIGSTOPped while the agent restarts, kill during a live migration (on the
 * source and on the target) and during a mirror. One VM for the class, on two agents of this
 * machine sharing its pools; each test asserts what a user would check afterwards: where the VM
 * runs (on exactly one host), which image it uses, the guest's own disk check, no QEMU, lock or
 * image left over.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentFaultsIT {

  static final String TOKEN = "it-token";
  static final long MEMORY = 256L << 20;
  static final long DISK = 32L << 20;
  static final Duration BOOT = Duration.ofSeconds(90);
  static final Duration PROMPT = Duration.ofSeconds(5);
  static final Map<String, Object> SLOW = Map.of("max-bandwidth", 1L << 20);

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path data;

  static HttpServer controller;
  static Agent a1;
  static Agent a2;
  static HttpTestClient h1;
  static HttpTestClient h2;
  static Path poolA;
  static Path poolB;
  static Path faults;

  @BeforeAll
  static void startVm() throws Exception {
    controller = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    controller.createContext("/api/agents/heartbeat", ex -> {
      ex.getRequestBody().readAllBytes();
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    controller.start();
    faults = Files.createDirectories(data.resolve("faults"));
    System.setProperty("ferry.fault.dir", faults.toString());
    TestGuest guest = TestGuest.get();
    poolA = Files.createDirectories(data.resolve("pools/a"));
    poolB = Files.createDirectories(data.resolve("pools/b"));
    Files.copy(guest.kernel(), poolA.resolve("vmlinuz"));
    Files.copy(guest.initrd(), poolA.resolve("initrd.img"));
    run("qemu-img", "create", "-q", "-f", "qcow2", poolA.resolve("web-disk0.qcow2").toString(), Long.toString(DISK));
    a1 = Agent.start(config("h1"));
    a2 = Agent.start(config("h2"));
    h1 = new HttpTestClient(a1.url(), TOKEN);
    h2 = new HttpTestClient(a2.url(), TOKEN);
    for (HttpTestClient h : List.of(h1, h2)) {
      for (Path p : List.of(poolA, poolB)) {
        assertThat(h.put("/agent/pools/" + p.getFileName(), new AgentPoolRequest(p.toString(), true)).status()).isEqualTo(201);
      }
    }
    assertThat(h1.put("/agent/vms/web", web(poolA.resolve("web-disk0.qcow2"), "qcow2", "ferry.disk=2:16")).status())
        .isEqualTo(201);
    start(h1);
    console("h1").await(GuestLine.DiskStatus.class, s -> s.gen() >= 1 && s.block() > 0, BOOT);
  }

  @AfterAll
  static void stopAgents() {
    System.clearProperty("ferry.fault.dir");
    if (a1 != null) a1.close();
    if (a2 != null) a2.close();
    if (controller != null) controller.stop(0);
  }

  static AgentConfig config(String name) {
    return AgentConfig.of(name, "127.0.0.1", 0, data.resolve(name), "http://127.0.0.1:" + controller.getAddress().getPort(),
        TOKEN).withAccelerator(Accelerator.TCG).withHeartbeatInterval(Duration.ofSeconds(5))
        .withPoolRoots(List.of(data));
  }

  static AgentVmDefinition web(Path disk, String format, String workload) {
    return new AgentVmDefinition("web", 1, MEMORY, "pc-q35-7.2", null, poolA.resolve("vmlinuz").toString(),
        poolA.resolve("initrd.img").toString(), TestGuest.append(workload), List.of(new AgentDisk("disk0", disk.toString(), format)));
  }

  static AgentVmStatus start(HttpTestClient h) {
    Reply r = h.post("/agent/vms/web/start", null);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    AgentVmStatus st = r.as(AgentVmStatus.class);
    owned.own(st.pid());
    return st;
  }

  static AgentVmStatus vm(HttpTestClient h) {
    Reply r = h.get("/agent/vms/web");
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.as(AgentVmStatus.class);
  }

  static GuestConsole console(String host) {
    return new GuestConsole(data.resolve(host).resolve("vms/web/run/console.log"));
  }

  static String currentDisk() throws Exception {
    return Json.mapper().readTree(data.resolve("h1/vms/web/vm.json").toFile()).at("/spec/disks/0/path").asText();
  }

  static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  static void signal(String sig, long pid) throws Exception {
    run("kill", "-" + sig, Long.toString(pid));
  }

  @Test
  @Order(1)
  void pivot_qemuKilledDuringIt_vmBootsFromTheNewImageAndNothingIsDeleted() throws Exception {
    Path source = Path.of(currentDisk());
    Reply put = h1.put("/agent/vms/web/mirrors/disk0", new MirrorRequest("b", "raw", 0, "k1"));
    assertThat(put.status()).as(put.body()).isEqualTo(201);
    Path target = Path.of(put.as(MirrorStatus.class).targetPath());
    await().atMost(Duration.ofSeconds(60)).until(() ->
        h1.get("/agent/vms/web/mirrors/disk0").as(MirrorStatus.class).state() == MirrorState.READY);
    long pid = vm(h1).pid();
    Files.createFile(faults.resolve("storage.before-pivot.arm"));
    CompletableFuture<Reply> pivot = CompletableFuture.supplyAsync(() -> h1.post("/agent/vms/web/mirrors/disk0/pivot", null));
    await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(faults.resolve("storage.before-pivot.reached")));

    signal("KILL", pid); // the guest is writing: the mirror is write-blocking, so both images have each write
    await().atMost(PROMPT).until(() -> !alive(pid));
    Files.delete(faults.resolve("storage.before-pivot.arm"));
    Files.createFile(faults.resolve("storage.before-pivot.release"));
    Reply cut = pivot.get();
    assertThat(cut.status()).as("the pivot that QEMU's death cut short: " + cut.body()).isNotEqualTo(200);

    Reply again = h1.post("/agent/vms/web/mirrors/disk0/pivot", null);

    assertThat(again.status()).as(again.body()).isEqualTo(200);
    assertThat(again.as(MirrorStatus.class).state()).isEqualTo(MirrorState.PIVOTED);
    assertThat(currentDisk()).isEqualTo(target.toString());
    assertThat(target).exists();
    assertThat(source).as("kept until released").exists();
    Reply verify = h1.post("/agent/vms/web/mirrors/disk0/verify", null);
    assertThat(verify.status()).as(verify.body()).isEqualTo(409);
    assertThat(verify.as(Problem.class).detail()).contains("rolled forward");

    // the guest checks the image its definition names now, as it booted from it
    assertThat(h1.put("/agent/vms/web", web(target, "raw", "ferry.diskcheck=16")).status()).isEqualTo(200);
    start(h1);
    assertThat(Files.readString(data.resolve("h1/vms/web/run/cmdline"))).contains(target.toString());
    GuestLine.DiskCheck check = console("h1").await(GuestLine.DiskCheck.class, BOOT);
    assertThat(check.ok()).as(check.raw()).isTrue();
    Reply release = h1.post("/agent/vms/web/mirrors/disk0/release?keep_source=false", null);
    assertThat(release.status()).as(release.body()).isEqualTo(200);
    assertThat(source).doesNotExist();
    assertThat(target).exists();
  }

  @Test
  @Order(2)
  void adoption_qemuStoppedWhileTheAgentRestarts_isUnknownRefusesStartAndDeleteThenAdopted() throws Exception {
    long pid = vm(h1).pid();
    a1.close();
    signal("STOP", pid);
    try {
      a1 = Agent.start(config("h1"));
      h1 = new HttpTestClient(a1.url(), TOKEN);

      AgentVmStatus unknown = vm(h1);
      assertThat(unknown.state()).isEqualTo(VmState.UNKNOWN);
      assertThat(unknown.pid()).isEqualTo(pid);
      Reply startAgain = h1.post("/agent/vms/web/start", null);
      assertThat(startAgain.status()).as(startAgain.body()).isEqualTo(409);
      assertThat(startAgain.as(Problem.class).detail()).contains("pid " + pid).contains("does not answer");
      Reply delete = h1.delete("/agent/vms/web?delete_disks=true");
      assertThat(delete.status()).as(delete.body()).isEqualTo(409);
      assertThat(Path.of(currentDisk())).exists();
    } finally {
      signal("CONT", pid);
    }

    await().atMost(Duration.ofSeconds(60)).until(() -> vm(h1).state() == VmState.RUNNING);
    assertThat(vm(h1).pid()).as("the same qemu, adopted").isEqualTo(pid);
    assertThat(alive(pid)).isTrue();
    assertThat(Files.readString(data.resolve("h1/vms/web/run/qemu.pid")).strip()).isEqualTo(Long.toString(pid));
  }

  @Test
  @Order(3)
  void kill_sourceDuringLiveMigration_answersPromptlyEndsTheMigrationAndLeavesNothing() throws Exception {
    long pid = vm(h1).pid();
    String id = migrate("m-src");
    long targetPid = vm(h2).pid();

    long t0 = System.nanoTime();
    Reply kill = h1.post("/agent/vms/web/kill", null);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(kill.status()).as(kill.body()).isEqualTo(200);
    assertThat(took).isLessThan(PROMPT);
    assertThat(alive(pid)).isFalse();
    assertThat(vm(h1).state()).isEqualTo(VmState.STOPPED);
    await().atMost(PROMPT).until(() -> h1.get("/agent/vms/web/outgoing").json().get("phase").asText().equals("failed"));
    // what the controller does after a failed migration: roll the target back
    assertThat(h2.delete("/agent/vms/web/incoming").status()).isIn(200, 204);
    assertThat(alive(targetPid)).isFalse();
    assertThat(h2.get("/agent/vms/web").status()).isEqualTo(404);
    assertThat(id).isNotBlank();

    int checks = console("h1").lines(GuestLine.DiskCheck.class).size();
    start(h1); // no lock left: the VM starts again where it was
    await().atMost(BOOT).until(() -> console("h1").lines(GuestLine.DiskCheck.class).size() > checks);
    GuestLine.DiskCheck check = console("h1").lines(GuestLine.DiskCheck.class).getLast();
    assertThat(check.ok()).as(check.raw()).isTrue();
    assertThat(vm(h1).state()).isEqualTo(VmState.RUNNING);
  }

  @Test
  @Order(4)
  void kill_targetDuringLiveMigration_rollsTheArrivalBackAndTheSourceKeepsRunning() throws Exception {
    long sourcePid = vm(h1).pid();
    migrate("m-dst");
    AgentVmStatus arriving = vm(h2);

    long t0 = System.nanoTime();
    Reply kill = h2.post("/agent/vms/web/kill", null);
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(kill.status()).as(kill.body()).isEqualTo(200);
    assertThat(took).isLessThan(PROMPT.plusSeconds(1));
    assertThat(alive(arriving.pid())).isFalse();
    await().atMost(PROMPT).until(() -> h2.get("/agent/vms/web").status() == 404);
    assertThat(h2.get("/agent/vms/web/incoming").status()).isEqualTo(404);
    await().atMost(Duration.ofSeconds(30)).until(() ->
        h1.get("/agent/vms/web/outgoing").json().get("phase").asText().equals("failed"));
    assertThat(vm(h1).state()).isEqualTo(VmState.RUNNING);
    assertThat(vm(h1).pid()).isEqualTo(sourcePid);
    assertThat(alive(sourcePid)).isTrue();
  }

  @Test
  @Order(5)
  void kill_duringMirror_answersPromptlyAndTheMoveLeavesNoImage() throws Exception {
    long pid = vm(h1).pid();
    String disk = currentDisk();
    Reply put = h1.put("/agent/vms/web/mirrors/disk0", new MirrorRequest("a", "qcow2", 256 << 10, "k2"));
    assertThat(put.status()).as(put.body()).isEqualTo(201);
    Path target = Path.of(put.as(MirrorStatus.class).targetPath());

    long t0 = System.nanoTime();
    Reply kill = h1.post("/agent/vms/web/kill", null);

    assertThat(kill.status()).as(kill.body()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(PROMPT);
    assertThat(alive(pid)).isFalse();
    MirrorStatus st = h1.get("/agent/vms/web/mirrors/disk0").as(MirrorStatus.class);
    assertThat(st.state()).isEqualTo(MirrorState.FAILED);
    assertThat(target).doesNotExist();
    assertThat(currentDisk()).isEqualTo(disk);
    assertThat(h1.post("/agent/vms/web/mirrors/disk0/cancel", null).as(MirrorStatus.class).state()).isEqualTo(MirrorState.NONE);
  }

  /** Starts a migration that cannot finish on its own (1 MiB/s for 256 MiB of RAM) and waits until it runs. */
  static String migrate(String name) throws Exception {
    AgentVmStatus st = vm(h1);
    String id = name + "-" + System.nanoTime();
    AgentVmDefinition def = Json.mapper().treeToValue(
        Json.mapper().readTree(data.resolve("h1/vms/web/vm.json").toFile()).get("definition"), AgentVmDefinition.class);
    var in = new IncomingRequest(id, new AgentVmDefinition(def.name(), def.cpus(), def.memoryBytes(), st.machineType(),
        def.cpuModel(), def.kernel(), def.initrd(), def.append(), def.disks()), st.memoryGivenBytes(), Map.of(), SLOW, null);
    Reply r = h2.put("/agent/vms/web/incoming", in);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    IncomingReady ready = r.as(IncomingReady.class);
    owned.own(vm(h2).pid());
    Reply o = h1.post("/agent/vms/web/outgoing", new OutgoingRequest(id, ready.migrationUri(), Map.of(), SLOW, null));
    assertThat(o.status()).as(o.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() ->
        h1.get("/agent/vms/web/outgoing").json().get("phase").asText().equals("migrating"));
    assertThat(h1.post("/agent/vms/web/stop", null).status()).as("ordinary actions still wait for the migration")
        .isEqualTo(409);
    return id;
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
  }
}
