package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane of issue 10 on separate hosts (each in its own network namespace, one bridge), with
 * an intruder in a third namespace that can reach every host but holds no certificate of the
 * cluster. One VM goes host1 → host2 with {@code --copy-storage} while the switch records host2's
 * cable, then back to host2 → host1 with the source held just before it connects to the target,
 * so that the target's NBD server and migration port listen with no peer yet:
 *
 * <ul>
 *   <li>the recording holds no heartbeat marker of the guest in clear, though it holds the
 *       marker sent in clear beside the migration (the control that lets this assertion fail);
 *   <li>{@code nbdinfo} from the intruder is refused, with no certificate and with a certificate of
 *       the cluster that is not the source host's (the controller's), while the source host's
 *       certificate is let in (the control);
 *   <li>garbage and the replayed recording of the first migration's stream, sent to the target's
 *       migration port, never make the target run; the real migration then succeeds, and the guest
 *       runs on with the same boot.
 * </ul>
 */
class StreamSecurityIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  /** the source agent's point just before its NBD clients connect (agent FaultPoints) */
  private static final String HOLD = "outgoing.before-mirrors";
  private static final String MARKER = "FERRY HB";
  private static NamespacedCluster cluster;
  private static Path faults;

  @BeforeAll
  static void threeMachinesAndAnIntruder() throws Exception {
    faults = Files.createDirectories(dir.resolve("faults"));
    cluster = NamespacedCluster.isolated(dir, owned, List.of("intruder"), Map.of("FERRY_FAULT_DIR", faults.toString()));
  }

  @AfterAll
  static void down() throws IOException {
    if (cluster == null) return;
    cluster.close();
    assertThat(cluster.topology.anyLeft()).as("every namespace removed").isFalse();
  }

  @Test
  void streams_tlsOnly_onlyTheSourceHostGetsIn_nothingInClear_garbageAndReplayNeverRun() throws Exception {
    FerryProcess ferry = cluster.ferry;
    NetnsTopology net = cluster.topology;
    String h1 = net.node("host1").address();
    String h2 = net.node("host2").address();
    for (String host : List.of("host1", "host2")) {
      Path local = Files.createDirectories(dir.resolve("hosts").resolve(host).resolve("local"));
      ferry.ok("pool", "create", "local", "--host", host, "--path", local.toString());
    }
    GuestConsole onHost1 = cluster.checks.create("sec", "ferry.mem=16:4 ferry.disk=1:8", "local", cluster.kernel,
        cluster.initrd);
    var hb = onHost1.awaitHeartbeatAfter(2, BOOT);
    onHost1.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1, BOOT);

    // 1. host1 → host2 recorded at host2's switch port, with the marker sent in clear beside it
    Path pcap = dir.resolve("host1-to-host2.pcap");
    Process dump = start(net.onSwitch(List.of("tcpdump", "-i", net.node("host2").switchPort(), "-n", "-s", "0", "-U",
        "-Z", "root", "-w", pcap.toString())), dir.resolve("tcpdump.log"));
    NamespacedCluster.await("tcpdump capturing", () -> Files.readString(dir.resolve("tcpdump.log")).contains("listening"),
        Duration.ofSeconds(20));
    // one heartbeat line, as the guest printed it: one datagram, below the MTU (a longer text is
    // fragmented, and a later fragment is no datagram the recording can be searched for)
    String consoleLine = ferry.ok("vm", "console", "sec", "--tail", "5").out().lines().filter(l -> l.contains(MARKER))
        .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no " + MARKER + " line on the console"));
    Result control = run(net.node("host1").inside(List.of("bash", "-c", "printf '%s' \"$LINE\" > /dev/udp/" + h2 + "/9")),
        Map.of("LINE", consoleLine), Duration.ofSeconds(10));
    assertThat(control.exit()).as("the control datagram sent: " + control).isZero();
    JsonNode m1 = ferry.ok("migrate", "live", "sec", "--to", "host2", "--copy-storage", "--max-downtime", "2000", "--json").lastJson();
    assertThat(m1.get("status").asText()).as(m1.toString()).isEqualTo("succeeded");
    JsonNode m1Target = incoming("host2");
    Integer m1Port = m1Target != null && "target".equals(m1Target.path("role").asText())
        ? m1Target.get("migration_port").asInt() : null;
    stop(dump);
    onHost1.assertClean();

    Map<Pcap.Flow, Long> flows = Pcap.bytesByFlow(pcap);
    long toTarget = flows.entrySet().stream().filter(e -> e.getKey().tcp() && e.getKey().src().equals(h1)
        && e.getKey().dst().equals(h2) && e.getKey().dport() >= 49152).mapToLong(Map.Entry::getValue).sum();
    assertThat(toTarget).as("stream bytes recorded host1 → host2; flows " + flows).isGreaterThanOrEqualTo(24L << 20);
    assertThat(Pcap.containsInClear(pcap, MARKER, f -> !f.tcp())).as("the control sent in clear is in the recording; udp flows "
        + flows.keySet().stream().filter(f -> !f.tcp()).toList())
        .isTrue();
    assertThat(Pcap.containsInClear(pcap, MARKER, Pcap.Flow::tcp)).as("the guest's heartbeat marker in clear on the wire")
        .isFalse();
    // the migration stream's flow (its port from the target's record), else the busiest stream to host2
    Pcap.Flow recorded = flows.entrySet().stream()
        .filter(e -> e.getKey().tcp() && e.getKey().src().equals(h1) && e.getKey().dst().equals(h2)
            && (m1Port == null ? e.getKey().dport() >= 49152 : e.getKey().dport() == m1Port))
        .max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
        .orElseThrow(() -> new AssertionError("no recorded stream to port " + m1Port + ": " + flows));
    Path replay = Files.write(dir.resolve("replay.bin"), Pcap.payload(pcap, recorded, 4 << 20));
    assertThat(Files.size(replay)).isGreaterThan(64 << 10);

    // 2. host2 → host1, the source held before it connects: the target listens with no peer yet
    GuestConsole onHost2 = ferry.console("host2", "sec");
    var hb2 = onHost2.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(30));
    Files.createFile(faults.resolve(HOLD + ".arm"));
    var m2 = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> ferry.run("migrate", "live", "sec", "--to", "host1", "--copy-storage", "--max-downtime", "2000", "--json"));
    NamespacedCluster.await("the source held at " + HOLD, () -> Files.exists(faults.resolve(HOLD + ".reached")),
        Duration.ofSeconds(90));
    JsonNode in = incoming("host1");
    assertThat(in).as("host1's record of the incoming migration").isNotNull();
    int migrationPort = in.get("migration_port").asInt();
    int nbdPort = in.get("nbd_port").asInt();
    String export = in.get("exports").elements().next().asText();
    String nbd = h1 + ":" + nbdPort + "/" + export;
    List<String> intruder = net.node("intruder").inside(List.of());

    Result plain = run(with(intruder, "nbdinfo", "nbd://" + nbd), Map.of(), Duration.ofSeconds(30));
    assertThat(plain.exit()).as("nbdinfo without TLS: " + plain).isNotIn(0, 124);
    Result wrongHost = run(with(intruder, "nbdinfo", "nbds://" + nbd + "?tls-certificates="
        + cluster.tlsDir("controller")), Map.of(), Duration.ofSeconds(30));
    assertThat(wrongHost.exit()).as("nbdinfo with a cluster certificate that is not the source's: " + wrongHost)
        .isNotIn(0, 124);
    Result source = run(with(intruder, "nbdinfo", "--size", "nbds://" + nbd + "?tls-certificates="
        + cluster.tlsDir("host2")), Map.of(), Duration.ofSeconds(30));
    assertThat(source.exit()).as("nbdinfo with the source host's certificate (the control): " + source).isZero();
    assertThat(Long.parseLong(source.out().strip())).isEqualTo(32L << 20);

    run(with(intruder, "bash", "-c", "{ printf 'QEVM\\0\\0\\0\\3'; head -c 1048576 /dev/urandom; } > /dev/tcp/" + h1
        + "/" + migrationPort), Map.of(), Duration.ofSeconds(20));
    run(with(intruder, "bash", "-c", "cat " + replay + " > /dev/tcp/" + h1 + "/" + migrationPort), Map.of(),
        Duration.ofSeconds(20));
    Thread.sleep(2000);
    JsonNode target = incomingStatus("host1");
    assertThat(target.has("running")).as("the target's incoming status: " + target).isTrue();
    assertThat(target.get("running").asBoolean()).as("target after garbage and replay: " + target).isFalse();
    assertThat(target.get("migration_status").asText()).as(target.toString()).isNotIn("failed", "completed", "active");

    Files.writeString(faults.resolve(HOLD + ".release"), "");
    Files.delete(faults.resolve(HOLD + ".arm"));
    FerryProcess.Result back2 = m2.get(200, TimeUnit.SECONDS);
    assertThat(back2.exit()).as(back2.toString()).isZero();
    assertThat(back2.lastJson().get("status").asText()).as(back2.toString()).isEqualTo("succeeded");
    owned.own(cluster.checks.show("sec").get("pid").asLong());
    GuestConsole back = ferry.console("host1", "sec");
    assertThat(back.awaitHeartbeatAfter(hb2.seq() + 2, Duration.ofSeconds(30)).boot()).as("same boot").isEqualTo(hb.boot());
    onHost2.assertClean();
    back.assertClean();
    System.out.printf("stream security: %d bytes recorded host1 → host2 (%d flows), replayed %d bytes, nbdinfo refused"
        + " (%s | %s)%n", toTarget, flows.size(), Files.size(replay), oneLine(plain.err()), oneLine(wrongHost.err()));
  }

  /** A host's migration record of vm sec (migration.json), or null when it has none. */
  private static JsonNode incoming(String host) throws IOException {
    Path f = dir.resolve("hosts").resolve(host).resolve("vms/sec/migration.json");
    return Files.isRegularFile(f) ? Json.mapper().readTree(f.toFile()) : null;
  }

  /**
   * GET incoming on a host's agent, asked as the controller asks it: from its namespace, with its
   * certificate and its credential (an agent refuses users' tokens).
   */
  private static JsonNode incomingStatus(String host) throws Exception {
    Path tls = cluster.tlsDir("controller");
    Result r = run(cluster.topology.node("controller").inside(List.of("curl", "-sS", "--max-time", "10", "--cacert",
        cluster.caFile().toString(), "--cert", tls.resolve("client-cert.pem").toString(), "--key",
        tls.resolve("client-key.pem").toString(), "-H", "Authorization: Bearer " + cluster.controllerCredential(),
        "https://" + cluster.topology.node(host).address() + ":7101/agent/vms/sec/incoming")), Map.of(),
        Duration.ofSeconds(20));
    assertThat(r.exit()).as(r.toString()).isZero();
    return Json.mapper().readTree(r.out());
  }

  record Result(int exit, String out, String err) {}

  private static Result run(List<String> cmd, Map<String, String> env, Duration timeout) throws Exception {
    var all = new ArrayList<>(List.of("timeout", Long.toString(timeout.toSeconds())));
    all.addAll(cmd);
    var pb = new ProcessBuilder(all).redirectInput(new File("/dev/null"));
    pb.environment().putAll(env);
    Process p = pb.start();
    owned.own(p.pid());
    var out = p.getInputStream().readAllBytes();
    var err = p.getErrorStream().readAllBytes();
    int exit = p.waitFor();
    owned.release(p.pid());
    return new Result(exit, new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
  }

  private static Process start(List<String> cmd, Path log) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectInput(new File("/dev/null")).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    owned.own(p.pid());
    return p;
  }

  /** SIGINT, so tcpdump flushes and closes its file. */
  private static void stop(Process p) throws Exception {
    new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("tcpdump stopped").isTrue();
    owned.release(p.pid());
  }

  private static List<String> with(List<String> prefix, String... cmd) {
    var all = new ArrayList<>(prefix);
    all.addAll(List.of(cmd));
    return all;
  }

  private static String oneLine(String s) {
    return s.strip().replaceAll("\\s+", " ");
  }
}
