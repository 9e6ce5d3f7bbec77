package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.agent.HttpTestClient.Reply;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.QueryBlock;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import dev.ferry.testsupport.qmp.QueryMemorySizeSummary;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent with real QEMU and the test guest. One VM for the class (each boot costs seconds
 * under TCG); the tests run in order along its life: define, start, agent crash and re-adoption,
 * stop, crash detection, delete.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AgentIT {

  static final String TOKEN = "it-token";
  static final long MEMORY = 128L << 20;
  static final Duration BOOT = Duration.ofSeconds(60);

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path data;

  static HttpServer controller;
  static final List<AgentHeartbeat> beats = new CopyOnWriteArrayList<>();
  static Agent agent;
  static HttpTestClient client;
  static Path pool;

  @BeforeAll
  static void startAgent() throws Exception {
    controller = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    controller.createContext("/api/agents/heartbeat", ex -> {
      beats.add(Json.mapper().readValue(ex.getRequestBody().readAllBytes(), AgentHeartbeat.class));
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    controller.start();
    TestGuest guest = TestGuest.get();
    pool = data.resolve("pools/local");
    Files.createDirectories(pool);
    Files.copy(guest.kernel(), pool.resolve("vmlinuz"));
    Files.copy(guest.initrd(), pool.resolve("initrd.img"));
    agent = Agent.start(config());
    client = new HttpTestClient(agent.url(), TOKEN);
    assertThat(client.put("/agent/pools/local", new AgentPoolRequest(pool.toString(), false)).status()).isEqualTo(201);
  }

  static AgentConfig config() {
    return AgentConfig.of("it1", "127.0.0.1", 0, data.resolve("agent"),
            "http://127.0.0.1:" + controller.getAddress().getPort(), TOKEN)
        .withAccelerator(Accelerator.TCG).withHeartbeatInterval(Duration.ofMillis(300))
        .withPoolRoots(List.of(data));
  }

  @AfterAll
  static void stopAgent() {
    if (agent != null) agent.close();
    if (controller != null) controller.stop(0);
  }

  static AgentVmDefinition web(String kernel) {
    return new AgentVmDefinition("web", 1, MEMORY, "q35", null, kernel, pool.resolve("initrd.img").toString(),
        TestGuest.append(""), List.of());
  }

  static GuestConsole console() {
    return new GuestConsole(data.resolve("agent/vms/web/run/console.log"));
  }

  @Test
  @Order(1)
  void define_kernelOutsideEveryPool_is400NamingKernel() throws Exception {
    Path outside = Files.copy(pool.resolve("vmlinuz"), data.resolve("vmlinuz"));

    Reply r = client.put("/agent/vms/web", web(outside.toString()));

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.as(Problem.class).field()).isEqualTo("kernel");
  }

  @Test
  @Order(2)
  void start_definedVm_runsGuestWithAdjustedMemory() {
    assertThat(client.put("/agent/vms/web", web(pool.resolve("vmlinuz").toString())).status()).isEqualTo(201);

    Reply r = client.post("/agent/vms/web/start", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    AgentVmStatus st = r.as(AgentVmStatus.class);
    owned.own(st.pid());
    assertThat(st.state()).isEqualTo(VmState.RUNNING);
    assertThat(st.accelerator()).isEqualTo("tcg");
    assertThat(st.machineType()).isEqualTo("pc-q35-7.2");
    assertThat(st.memoryRequestedBytes()).isEqualTo(MEMORY);
    assertThat(st.memoryGivenBytes()).isEqualTo(MEMORY - 8 * 1024);
    assertThat(st.memoryAdjustment()).contains("256 KiB");
    GuestLine.Heartbeat hb = console().await(GuestLine.Heartbeat.class, BOOT);
    assertThat(console().awaitHeartbeatAfter(hb.seq(), Duration.ofSeconds(10)).boot()).isEqualTo(hb.boot());
    assertThat(client.post("/agent/vms/web/start", null).status()).as("already running").isEqualTo(409);
  }

  @Test
  @Order(3)
  void console_tail_showsGuestHeartbeatsAndHeartbeatsReportVm() {
    ConsoleChunk c = client.get("/agent/vms/web/console?tail=3").as(ConsoleChunk.class);
    assertThat(c.host()).isEqualTo("it1");
    assertThat(c.text()).contains("FERRY HB");
    ConsoleChunk all = client.get("/agent/vms/web/console?offset=0").as(ConsoleChunk.class);
    assertThat(all.offset()).isZero();
    assertThat(all.nextOffset()).isGreaterThanOrEqualTo(c.nextOffset() - 1);

    await().atMost(Duration.ofSeconds(5)).until(() -> !beats.isEmpty()
        && beats.getLast().vms().stream().anyMatch(v -> v.name().equals("web") && v.state() == VmState.RUNNING));
    AgentVmDefinition same = web(pool.resolve("vmlinuz").toString());
    AgentVmDefinition more = new AgentVmDefinition("web", 2, MEMORY, "q35", null, same.kernel(), same.initrd(),
        same.append(), List.of());
    assertThat(client.put("/agent/vms/web", more).status()).as("redefine while running").isEqualTo(409);
    assertThat(client.put("/agent/vms/web", same).status()).as("the same definition again changes nothing")
        .isEqualTo(200);
  }

  @Test
  @Order(4)
  void agentCrash_newAgentOnSameData_readoptsWithoutRestartingGuest() throws Exception {
    long pid = client.get("/agent/vms/web").as(AgentVmStatus.class).pid();
    GuestLine.Heartbeat before = console().lastHeartbeat().orElseThrow();

    agent.close(); // like a crash: the QEMU stays
    try (QmpClient qmp = QmpClient.connect(data.resolve("agent/vms/web/run/qmp.sock"), Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryMemorySizeSummary()).baseMemory()).isEqualTo(MEMORY - 8 * 1024);
      assertThat(qmp.call(new QueryStatus()).running()).isTrue();
    }
    agent = Agent.start(config());
    client = new HttpTestClient(agent.url(), TOKEN);

    AgentVmStatus st = client.get("/agent/vms/web").as(AgentVmStatus.class);
    assertThat(st.state()).isEqualTo(VmState.RUNNING);
    assertThat(st.pid()).isEqualTo(pid);
    assertThat(st.memoryGivenBytes()).isEqualTo(MEMORY - 8 * 1024);
    GuestLine.Heartbeat after = console().awaitHeartbeatAfter(before.seq() + 1, Duration.ofSeconds(15));
    assertThat(after.boot()).as("same boot: the guest was not restarted").isEqualTo(before.boot());
  }

  @Test
  @Order(5)
  void stop_throughNewAgent_stopsGuestGracefully() {
    long pid = client.get("/agent/vms/web").as(AgentVmStatus.class).pid();

    Reply r = client.post("/agent/vms/web/stop?timeout_ms=20000", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    AgentVmStatus st = r.as(AgentVmStatus.class);
    assertThat(st.state()).isEqualTo(VmState.STOPPED);
    assertThat(st.pid()).isNull();
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    // regression: the closed agent's exit watcher once wrote "crashed" into vm.json here
    await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(3)).until(() ->
        Json.mapper().readTree(data.resolve("agent/vms/web/vm.json").toFile()).get("state").asText().equals("stopped"));
  }

  @Test
  @Order(6)
  void qemuKilledBehindAgentsBack_isCrashedThenDeletable() {
    AgentVmStatus st = client.post("/agent/vms/web/start", null).as(AgentVmStatus.class);
    owned.own(st.pid());
    assertThat(client.delete("/agent/vms/web").status()).as("running vm").isEqualTo(409);

    ProcessHandle.of(st.pid()).orElseThrow().destroyForcibly();

    await().atMost(Duration.ofSeconds(10)).until(() ->
        client.get("/agent/vms/web").json().get("state").asText().equals("crashed"));
    JsonNode vm = client.get("/agent/vms/web").json();
    assertThat(vm.get("pid").isNull()).isTrue();
    assertThat(client.delete("/agent/vms/web?delete_disks=true").status()).isEqualTo(204);
    assertThat(client.get(ApiVms.LIST).json()).isEmpty();
  }

  /**
   * A warm cutover's target: QEMU started paused with the disk staged (not opened: another process
   * may write the image meanwhile), surviving an agent crash, then started: the device is on the
   * image's own nodes as after a plain start, nothing staged is left, and the guest boots. A staged
   * QEMU is deleted with its VM.
   */
  @Test
  @Order(7)
  void stage_survivesAnAgentCrash_thenStartPutsTheImageUnderTheDeviceAndBoots() throws Exception {
    Path image = pool.resolve("staged-disk0.qcow2");
    Process mk = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "64M").inheritIO().start();
    assertThat(mk.waitFor()).isZero();
    AgentVmDefinition def = new AgentVmDefinition("staged", 1, MEMORY, "q35", null, pool.resolve("vmlinuz").toString(),
        pool.resolve("initrd.img").toString(), TestGuest.append(""), List.of(new AgentDisk("disk0", image.toString(),
        "qcow2")));
    assertThat(client.put("/agent/vms/staged", def).status()).isEqualTo(201);

    Reply r = client.post("/agent/vms/staged/stage", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    AgentVmStatus st = r.as(AgentVmStatus.class);
    owned.own(st.pid());
    assertThat(st.state()).isEqualTo(VmState.PAUSED);
    assertThat(client.post("/agent/vms/staged/stage", null).as(AgentVmStatus.class).pid()).as("a repeat answers it")
        .isEqualTo(st.pid());
    Path qmpSocket = data.resolve("agent/vms/staged/run/qmp.sock");
    agent.close(); // like a crash: the QEMU stays, and its monitor is free for this test
    try (QmpClient qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryNamedBlockNodes())).extracting(BlockDeviceInfo::nodeName)
          .as("the image is not open").containsExactlyInAnyOrder("disk0-staged", "disk0-placeholder");
    }
    agent = Agent.start(config());
    client = new HttpTestClient(agent.url(), TOKEN);
    assertThat(client.get("/agent/vms/staged").as(AgentVmStatus.class).state()).isEqualTo(VmState.PAUSED);

    r = client.post("/agent/vms/staged/start", null);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.as(AgentVmStatus.class).state()).isEqualTo(VmState.RUNNING);
    assertThat(r.as(AgentVmStatus.class).pid()).as("the staged QEMU, not a new one").isEqualTo(st.pid());
    GuestConsole console = new GuestConsole(data.resolve("agent/vms/staged/run/console.log"));
    GuestLine.Heartbeat hb = console.await(GuestLine.Heartbeat.class, BOOT);
    console.awaitHeartbeatAfter(hb.seq(), Duration.ofSeconds(10));
    agent.close();
    try (QmpClient qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(5))) {
      assertThat(qmp.call(new QueryNamedBlockNodes())).extracting(BlockDeviceInfo::nodeName)
          .as("the plain start's nodes, nothing staged left").containsExactlyInAnyOrder("disk0", "disk0-file");
      assertThat(qmp.call(new QueryBlock())).singleElement().satisfies(b ->
          assertThat(b.inserted()).map(BlockDeviceInfo::nodeName).hasValue("disk0"));
    }
    agent = Agent.start(config());
    client = new HttpTestClient(agent.url(), TOKEN);

    assertThat(client.post("/agent/vms/staged/kill", null).status()).isEqualTo(200);
    st = client.post("/agent/vms/staged/stage", null).as(AgentVmStatus.class);
    owned.own(st.pid());
    assertThat(client.delete("/agent/vms/staged").status()).as("a staged QEMU goes with its vm").isEqualTo(204);
    assertThat(ProcessHandle.of(st.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(image).as("its image kept").exists();
  }

  /** Paths used more than once above. */
  static final class ApiVms {
    static final String LIST = "/agent/vms";
  }
}
