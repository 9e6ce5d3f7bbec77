package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.TapNames;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault tolerance with a NIC (issue 12), through the CLI on a three-host local cluster with Ferry's
 * QEMU build ({@code ./ferry test-ft}): one TCP connection from a client in the network's
 * namespace to the guest's stream service is held across protection, {@code ft disable}, a
 * planned {@code ft failover}, a killed secondary and a killed primary (agent and QEMU SIGKILLed),
 * each loss followed by the automatic re-protection on an eligible host.
 * The client checks every line: counters consecutive (no gap, duplicate or reorder, so COLO
 * released nothing the survivor did not also produce) and no reset. Tests run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FtNetworkIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static FerryProcess ferry;
  private static JsonNode network;
  private static String mac;
  private static StreamClient client;
  private static GuestLine.Heartbeat firstBeat;
  private static final List<String> report = new ArrayList<>();

  @BeforeAll
  static void clusterUp() throws Exception {
    FtTestCluster cluster = FtTestCluster.up(dir, 3, owned);
    ferry = cluster.ferry();
    Path kernel = cluster.kernel();
    Path initrd = cluster.initrd();
    network = Json.mapper().readTree(dir.resolve("network/default.json").toFile());
    JsonNode vm = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "128M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append("ferry.mem=16:4 ferry.disk=1:8"), "--disk",
        "32M@local", "--nic", "default", "--ft-ready", "--json").json();
    owned.own(vm.get("pid").asLong());
    mac = vm.at("/nics/0/mac").asText();
    GuestConsole console = ferry.console("host1", "web");
    String ip = GuestStream.awaitAddress(console, BOOT);
    firstBeat = console.awaitHeartbeatAfter(0, BOOT);
    client = new StreamClient(ferry.start("network", "exec", "default", "--", "/bin/busybox", "nc", ip, "7000"));
    awaitLines(100);
  }

  @AfterAll
  static void down() {
    if (client != null) client.close();
    // a re-protection starts secondaries whose pids the test never saw: every QEMU under the cluster's hosts is its own
    dev.ferry.app.LeftoverQemus.kill(dir.resolve("hosts"));
    if (mac != null) {
      // a QEMU killed with its agent (or by the line above) leaves the tap its agent made
      dev.ferry.app.LeftoverQemus.removeTaps(List.of("host1", "host2", "host3").stream()
          .map(h -> TapNames.of(h, "web", 0, mac)).toList());
    }
    if (!report.isEmpty()) System.out.println("FtNetworkIT: one connection across\n  " + String.join("\n  ", report));
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void protect_thenDisable_connectionCarriesOn_secondaryTapNeverOnTheBridge() throws Exception {
    enable("host2");
    String secondaryTap = TapNames.of("host2", "web", 0, mac);
    assertThat(Files.exists(Path.of("/sys/class/net", secondaryTap))).as("the secondary's tap exists").isTrue();
    assertThat(bridgePorts()).as("the secondary's tap stays off the bridge until a takeover").doesNotContain(secondaryTap)
        .contains(TapNames.of("host1", "web", 0, mac));
    step("protected (checkpoints every 1000 ms)", () -> awaitCheckpoints(5));

    step("ft disable", () -> ferry.ok("ft", "disable", "web"));
    awaitGone(secondaryTap);
  }

  @Test
  @Order(2)
  void plannedFailover_connectionFollowsTheGuestToHost2_thenReprotectedByItself() throws Exception {
    enable("host2");
    awaitCheckpoints(3);
    step("planned ft failover to host2", () -> ferry.ok("ft", "failover", "web"));
    JsonNode vm = ferry.ok("vm", "show", "web", "--json").json();
    owned.own(vm.get("pid").asLong());
    assertThat(vm.get("host").asText()).isEqualTo("host2");
    assertThat(bridgePorts()).contains(TapNames.of("host2", "web", 0, mac));
    // host1 may at once hold the new secondary, whose tap has the old one's name but stays off the bridge
    awaitOffBridge(TapNames.of("host1", "web", 0, mac));
    step("re-protection after the planned failover", () -> awaitReprotected(1));
    ferry.console("host2", "web").assertClean();
  }

  @Test
  @Order(3)
  void secondaryKilled_primaryRunsOn_clientSeesNoError_thenReprotected() throws Exception {
    JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
    String secondary = st.get("secondary").asText();
    long secondaryPid = Long.parseLong(Files.readString(dir.resolve("hosts/" + secondary + "/vms/web/run/qemu.pid"))
        .strip());
    owned.own(secondaryPid);
    int failovers = st.get("failovers").size();
    // the primary drops its secondary and runs on: the client's silence across this alone, then the re-protection's
    step("secondary qemu on " + secondary + " SIGKILLed", () -> {
      ProcessHandle.of(secondaryPid).orElseThrow().destroyForcibly();
      awaitFailovers(failovers + 1);
    });
    step("re-protection after the lost secondary", () -> awaitReprotected(2));
    JsonNode after = ferry.ok("ft", "status", "web", "--json").json();
    assertThat(after.get("failovers").get(after.get("failovers").size() - 1).get("cause").asText())
        .contains("secondary lost");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo("host2");
  }

  /**
   * The first cell: the primary (host2) killed, agent and QEMU; the connection survives on
   * the secondary, and the VM is protected again with a secondary on the third host (host2's
   * agent is dead, so the old primary is no candidate).
   */
  @Test
  @Order(4)
  void primaryAgentAndQemuKilled_connectionSurvives_sameBoot_clean_reprotectedOnTheThirdHost() throws Exception {
    JsonNode st0 = ferry.ok("ft", "status", "web", "--json").json();
    String survivor = st0.get("secondary").asText();
    String third = survivor.equals("host1") ? "host3" : "host1";
    long primaryPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/" + survivor + "/vms/web/run/qemu.pid")).strip()));
    long agentPid = ferry.clusterFile().get("agents").get(1).get("pid").asLong();
    GuestConsole console = ferry.console(survivor, "web");
    int lines = console.rawLines().size();
    int failovers = st0.get("failovers").size();
    step("primary agent and qemu SIGKILLed (host2)", () -> {
      ProcessHandle.of(agentPid).orElseThrow().destroyForcibly();
      ProcessHandle.of(primaryPid).orElseThrow().destroyForcibly();
      // the failover, not the state: re-protection may end "unprotected" before a CLI poll sees it
      JsonNode st = awaitFailovers(failovers + 1);
      JsonNode f = st.get("failovers").get(st.get("failovers").size() - 1);
      assertThat(f.get("to").asText()).isEqualTo(survivor);
      report.add("  failover: detected_ms " + f.get("detected_ms").asText() + ", takeover_ms "
          + f.get("takeover_ms").asText());
    });
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("host").asText()).isEqualTo(survivor);
    assertThat(bridgePorts()).contains(TapNames.of(survivor, "web", 0, mac));
    step("re-protection after the failover", () -> awaitReprotected(3));
    JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
    assertThat(st.get("primary").asText()).isEqualTo(survivor);
    assertThat(st.get("secondary").asText()).as("the third host, not the dead one").isEqualTo(third);
    var beats = console.rawLines().subList(lines, console.rawLines().size()).stream().map(GuestLine::parse)
        .flatMap(java.util.Optional::stream).filter(GuestLine.Heartbeat.class::isInstance)
        .map(GuestLine.Heartbeat.class::cast).toList();
    assertThat(beats).as("the survivor's beats after the kill").isNotEmpty()
        .allSatisfy(h -> assertThat(h.boot()).isEqualTo(firstBeat.boot()));
    console.assertClean();
  }

  /** Protected again with its {@code count}th re-protection: the record's figures go into the report. */
  private static void awaitReprotected(int count) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    JsonNode st;
    while (true) {
      st = ferry.ok("ft", "status", "web", "--json").json();
      if (st.get("reprotections").size() >= count && st.get("state").asText().equals("protected")) break;
      if (System.nanoTime() > until) throw new AssertionError("not re-protected (" + count + ") within 120 s: " + st);
      Thread.sleep(200);
    }
    JsonNode r = st.get("reprotections").get(count - 1);
    try {
      owned.own(Long.parseLong(Files.readString(dir.resolve("hosts/" + r.get("secondary").asText()
          + "/vms/web/run/qemu.pid")).strip()));
    } catch (java.io.IOException e) {
      throw new AssertionError("the new secondary's pid file on " + r.get("secondary").asText(), e);
    }
    report.add("  re-protected: secondary " + r.get("secondary").asText() + ", " + r.get("took_ms").asText()
        + " ms after it became unprotected, guest paused " + r.path("guest_pause_ms").asText("-") + " ms");
  }

  private interface Step {
    void run() throws Exception;
  }

  /** One thing done while the client streams: no problem, and lines keep coming after it. */
  private static void step(String what, Step s) throws Exception {
    long before = client.mark();
    long t0 = System.nanoTime();
    s.run();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    awaitLines(client.received() + 50);
    assertThat(client.problems()).as(what).isEmpty();
    assertThat(client.received()).isGreaterThan(before);
    report.add(String.format("%-40s %6d ms, longest silence %7.1f ms", what + ":", ms, client.maxSilenceMs()));
  }

  private static void enable(String secondary) {
    JsonNode st = ferry.ok("ft", "enable", "web", "--secondary", secondary, "--checkpoint-interval", "1000", "--json")
        .json();
    assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
  }

  private static JsonNode awaitCheckpoints(long atLeast) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    while (true) {
      JsonNode st = ferry.ok("ft", "status", "web", "--json").json();
      assertThat(st.get("state").asText()).as(st.toString()).isEqualTo("protected");
      if (st.get("checkpoints").asLong() >= atLeast) return st;
      if (System.nanoTime() > until) throw new AssertionError("fewer than " + atLeast + " checkpoints: " + st);
      Thread.sleep(500);
    }
  }

  private static void awaitLines(long count) throws InterruptedException {
    GuestStream.awaitLines(client, count);
  }


  private static JsonNode awaitFailovers(int count) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    JsonNode st;
    while ((st = ferry.ok("ft", "status", "web", "--json").json()).get("failovers").size() < count) {
      if (System.nanoTime() > until) throw new AssertionError("no failover " + count + " within 60 s: " + st);
      Thread.sleep(100);
    }
    return st;
  }

  /** The old primary's port leaves the bridge (its copy was removed). */
  private static void awaitOffBridge(String tap) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (bridgePorts().contains(tap) && System.nanoTime() < until) Thread.sleep(100);
    assertThat(bridgePorts()).as("tap " + tap + " of the old primary on the bridge").doesNotContain(tap);
  }

  /** The tap of a copy that went (a removed secondary, an old primary) is deleted with it. */
  private static void awaitGone(String tap) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (Files.exists(Path.of("/sys/class/net", tap)) && System.nanoTime() < until) Thread.sleep(100);
    assertThat(Files.exists(Path.of("/sys/class/net", tap))).as("tap " + tap + " of a copy that went").isFalse();
  }

  private static List<String> bridgePorts() throws Exception {
    try (var links = Files.list(Path.of("/sys/class/net", network.get("bridge").asText(), "brif"))) {
      return links.map(p -> p.getFileName().toString()).toList();
    }
  }
}
