package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's restart cells with real QEMU ({@code ./ferry test-ft}): the controller SIGKILLed while
 * a VM is protected, the secondary's agent SIGKILLed, and the controller SIGKILLed while it fails
 * the VM over, each time started again as an operator would ({@code ferry cluster up}). The pair
 * and its decisions live on without them: protection goes on, the secondary is re-adopted, and a
 * failover the dead controller asked for (held in the secondary's agent at
 * {@code ft.before-takeover} until the controller was dead) ends failed over once, one copy running.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FtControllerKillIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final String HOLD = "ft.before-takeover";
  private static FerryProcess ferry;
  private static Path faults;
  private static GuestLine.Heartbeat firstBeat;

  @BeforeAll
  static void clusterUp() throws Exception {
    faults = Files.createDirectories(dir.resolve("faults"));
    FtTestCluster cluster = FtTestCluster.up(dir, 2, owned, Map.of("FERRY_FAULT_DIR", faults.toString()));
    ferry = cluster.ferry();
    JsonNode web = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "128M", "--kernel",
        cluster.kernel().toString(), "--initrd", cluster.initrd().toString(), "--append",
        TestGuest.append("ferry.mem=16:4 ferry.disk=1:8"), "--disk", "32M@local", "--ft-ready", "--json").json();
    owned.own(web.get("pid").asLong());
    GuestConsole console = ferry.console("host1", "web");
    console.await(GuestLine.DiskStatus.class, d -> d.block() > 0, BOOT);
    firstBeat = console.awaitHeartbeatAfter(0, BOOT);
  }

  @AfterAll
  static void down() {
    LeftoverQemus.kill(dir.resolve("hosts"));
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void controllerKilledWhileProtected_pairGoesOnWithoutIt_restartedControllerKeepsItProtected() throws Exception {
    ferry.ok("ft", "enable", "web", "--secondary", "host2", "--no-reprotect", "--checkpoint-interval", "1000");
    awaitCheckpoints(3);
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    long secondaryPid = pid("host2");
    owned.own(secondaryPid);
    GuestConsole console = ferry.console("host1", "web");
    long seqBefore = console.lastHeartbeat().orElseThrow().seq();

    long t0 = System.nanoTime();
    killController();
    // longer than the fencer's 500 ms and the controller's 800 ms bound: the pair decides nothing alone
    Thread.sleep(3000);
    assertThat(stopped(primaryPid)).as("the primary's fencer still hears its secondary: the guest runs").isFalse();
    assertThat(ProcessHandle.of(secondaryPid).filter(ProcessHandle::isAlive)).isPresent();
    restart();
    long downMs = (System.nanoTime() - t0) / 1_000_000;

    long checkpoints = ferry.ok("ft", "status", "web", "--json").json().get("checkpoints").asLong();
    JsonNode st = awaitCheckpoints(checkpoints + 3);
    assertThat(st.get("primary").asText()).isEqualTo("host1");
    assertThat(st.get("secondary").asText()).isEqualTo("host2");
    assertThat(st.get("failovers")).as(st.toString()).isEmpty();
    assertThat(console.awaitHeartbeatAfter(seqBefore + 3, Duration.ofSeconds(30)).boot()).isEqualTo(firstBeat.boot());
    console.assertClean();
    System.out.printf("FtControllerKillIT: controller SIGKILLed while protected, back %d ms later: still protected,"
        + " checkpoints %d -> %d, no failover%n", downMs, checkpoints, st.get("checkpoints").asLong());
  }

  /**
   * The secondary's agent SIGKILLed and started again: the COLO pair checkpoints on without it, the
   * controller waits instead of dropping the secondary, and the new agent re-adopts the same
   * secondary QEMU and answers the primary's fencer again; the next cell's failover then takes over
   * from this re-adopted secondary.
   */
  @Test
  @Order(2)
  void secondaryAgentKilledAndRestarted_secondaryReadopted_protectionGoesOn() throws Exception {
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    long secondaryPid = pid("host2");
    long agent2 = ferry.clusterFile().get("agents").get(1).get("pid").asLong();
    long before = ferry.ok("ft", "status", "web", "--json").json().get("checkpoints").asLong();

    long t0 = System.nanoTime();
    ProcessHandle.of(agent2).ifPresent(p -> {
      p.destroyForcibly();
      p.onExit().join();
    });
    while (System.nanoTime() - t0 < Duration.ofSeconds(3).toNanos()) {
      JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
      assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
      Thread.sleep(200);
    }
    restart();
    long downMs = (System.nanoTime() - t0) / 1_000_000;

    JsonNode st = awaitCheckpoints(before + 3);
    assertThat(st.get("failovers")).as(st.toString()).isEmpty();
    assertThat(st.get("secondary").asText()).isEqualTo("host2");
    assertThat(pid("host2")).as("the same secondary QEMU, re-adopted").isEqualTo(secondaryPid);
    assertThat(stopped(primaryPid)).as("the primary's fencer heard the controller throughout").isFalse();
    System.out.printf("FtControllerKillIT: secondary agent SIGKILLed, back %d ms later: same secondary qemu, still"
        + " protected, checkpoints %d -> %d%n", downMs, before, st.get("checkpoints").asLong());
  }

  @Test
  @Order(3)
  void controllerKilledMidFailover_takeoverDoneWithoutIt_restartedControllerEndsItOnce_oneCopyRuns() throws Exception {
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    long secondaryPid = pid("host2");
    long agent1 = ferry.clusterFile().get("agents").get(0).get("pid").asLong();
    GuestConsole survivor = ferry.console("host2", "web");
    int lines = survivor.rawLines().size();
    long seqBefore = ferry.console("host1", "web").lastHeartbeat().orElseThrow().seq();
    Files.createFile(faults.resolve(HOLD + ".arm"));

    ProcessHandle.of(agent1).orElseThrow().destroyForcibly();
    ProcessHandle.of(primaryPid).orElseThrow().destroyForcibly();
    NamespacedCluster.await("the secondary's agent asked to take over", () -> Files.exists(faults.resolve(HOLD
        + ".reached")), Duration.ofSeconds(60));
    JsonNode during = ferry.ok("ft", "status", "web", "--json").json();
    assertThat(during.get("state").asText()).as(during.toString()).isEqualTo("failing_over");
    killController();
    Files.delete(faults.resolve(HOLD + ".arm"));
    Files.createFile(faults.resolve(HOLD + ".release"));
    NamespacedCluster.await("host2's agent took over with no controller to answer",
        () -> Files.exists(dir.resolve("hosts/host2/ft/web/taken-over.json")), Duration.ofSeconds(30));
    restart();

    JsonNode st = awaitStatus(s -> s.get("state").asText().equals("unprotected"), Duration.ofSeconds(60));
    assertThat(st.get("primary").asText()).isEqualTo("host2");
    assertThat(st.get("failovers")).as("one failover, finished by the new controller").singleElement()
        .satisfies(f -> {
          assertThat(f.get("from").asText()).isEqualTo("host1");
          assertThat(f.get("to").asText()).isEqualTo("host2");
        });
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host2");
    assertThat(ProcessHandle.of(secondaryPid).filter(ProcessHandle::isAlive)).as("the survivor is the taken-over"
        + " secondary QEMU, not a new one").isPresent();
    assertThat(stopped(secondaryPid)).isFalse();
    assertThat(ProcessHandle.of(primaryPid).filter(ProcessHandle::isAlive)).as("one copy").isEmpty();
    var after = survivor.awaitHeartbeatAfter(seqBefore + 3, Duration.ofSeconds(60));
    assertThat(after.boot()).as("the guest went on in the same boot").isEqualTo(firstBeat.boot());
    assertThat(survivor.rawLines().subList(lines, survivor.rawLines().size()).stream().map(GuestLine::parse)
        .flatMap(java.util.Optional::stream).filter(GuestLine.Heartbeat.class::isInstance)
        .map(GuestLine.Heartbeat.class::cast).toList()).allSatisfy(h -> assertThat(h.boot()).isEqualTo(firstBeat.boot()));
    survivor.assertClean();
    // the restarted host1 agent answers: the old copy's definition goes (a lost host's disks are kept)
    NamespacedCluster.await("the old primary's copy removed from host1", () -> !Files.exists(
        dir.resolve("hosts/host1/vms/web")), Duration.ofSeconds(60));
    ferry.ok("ft", "disable", "web");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host2");
    System.out.printf("FtControllerKillIT: controller SIGKILLed mid-failover (takeover held, then done with no"
        + " controller): the restarted one recorded one failover host1 -> host2 (detected_ms %s, takeover_ms %s),"
        + " guest beat %d in the same boot%n", st.at("/failovers/0/detected_ms").asText(),
        st.at("/failovers/0/takeover_ms").asText(), after.seq());
  }

  private static void killController() {
    long pid = ferry.clusterFile().at("/controller/pid").asLong();
    ProcessHandle.of(pid).ifPresent(p -> {
      p.destroyForcibly();
      p.onExit().join();
    });
  }

  /** What an operator does after a crash: {@code cluster up} starts again what is missing. */
  private static void restart() {
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
  }

  private static long pid(String host) throws java.io.IOException {
    return Long.parseLong(Files.readString(dir.resolve("hosts/" + host + "/vms/web/run/qemu.pid")).strip());
  }

  private static boolean stopped(long pid) throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
    return stat.charAt(stat.lastIndexOf(')') + 2) == 'T';
  }

  private static JsonNode awaitCheckpoints(long atLeast) throws Exception {
    return awaitStatus(st -> {
      assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
      return st.get("checkpoints").asLong() >= atLeast;
    }, Duration.ofSeconds(90));
  }

  private static JsonNode awaitStatus(java.util.function.Predicate<JsonNode> done, Duration timeout)
      throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
      if (done.test(st)) return st;
      if (System.nanoTime() > until) throw new AssertionError("not within " + timeout + ": " + st);
      Thread.sleep(200);
    }
  }
}
