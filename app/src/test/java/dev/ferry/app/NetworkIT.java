package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.TapNames;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Guest networking through the CLI (issue 11): one local cluster, one VM with a NIC on network
 * {@code default}, and one TCP connection from a client in the network's namespace to the guest's
 * stream service held across every move in sequence: live migration on shared storage, a storage
 * migration, live with {@code --copy-storage}, a storage migration back, live with
 * {@code --postcopy always}. Tests run in order and share the cluster.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final Pattern NET = Pattern.compile("FERRY NET iface=eth0 ip=(\\S+) mac=(\\S+)");
  private static FerryProcess ferry;
  private static Path kernel;
  private static Path initrd;
  private static JsonNode network;
  private static final List<String> taps = new ArrayList<>();

  @BeforeAll
  static void cluster() throws Exception {
    ferry = new FerryProcess(dir);
    var up = ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    assertThat(up.out()).as(up.toString()).contains("network").contains("default: bridge");
    network = Json.mapper().readTree(dir.resolve("network/default.json").toFile());
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void badNics_areRefusedNamingTheField_andNothingIsCreated() {
    assertRefused("nics[0].network", "--nic", "nosuch");
    assertRefused("nics[0].mac", "--nic", "default,mac=01:00:5e:00:00:01");
    assertRefused("nics[0].mac", "--nic", "default,mac=52:54:00:zz:00:01");
    assertRefused("nics[0].mac", "--nic", "default,mac=52:54:00:00:01");
    assertThat(ferry.ok("vm", "list", "--json").json()).isEmpty();
    JsonNode net = ferry.ok("network", "show", "default", "--json").json();
    assertThat(net.get("bridge").asText()).isEqualTo(network.get("bridge").asText());
    assertThat(net.get("hosts")).hasSize(2);
  }

  @Test
  @Order(2)
  void oneConnection_survivesEveryMove_inOrderWithoutLoss() throws Exception {
    JsonNode vm = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "128M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append(""), "--disk", "32M@shared", "--nic", "default",
        "--json").json();
    owned.own(vm.get("pid").asLong());
    String mac = vm.at("/nics/0/mac").asText();
    taps.add(vm.at("/nics/0/tap").asText());
    assertThat(vm.at("/nics/0/network").asText()).isEqualTo("default");
    assertThat(bridgePorts()).as("the source tap is on the bridge").contains(taps.getLast());
    String ip = awaitAddress(ferry.console("host1", "web"), mac);
    assertThat(ferry.ok("vm", "show", "web", "--json").json().at("/nics/0/ip").asText())
        .as("vm show has the address from the DHCP lease").isEqualTo(ip);
    // a duplicate MAC is refused now that web holds it
    assertRefused("nics[0].mac", "--nic", "default,mac=" + mac);

    try (StreamClient client = new StreamClient(ferry.start("network", "exec", "default", "--", "/bin/busybox", "nc",
        ip, "7000"))) {
      awaitLines(client, 100);
      List<String> report = new ArrayList<>();
      report.add(move(client, "live, shared storage", "host2", mac, "migrate", "live", "web", "--to", "host2"));
      report.add(move(client, "storage, shared -> local", "host2", mac, "migrate", "storage", "web", "--to-pool", "local"));
      report.add(move(client, "live, --copy-storage", "host1", mac, "migrate", "live", "web", "--to", "host1",
          "--copy-storage"));
      report.add(move(client, "storage, local -> shared", "host1", mac, "migrate", "storage", "web", "--to-pool",
          "shared"));
      report.add(move(client, "live, --postcopy always", "host2", mac, "migrate", "live", "web", "--to", "host2",
          "--postcopy", "always"));
      report.add(cancelled(client, mac, "host2", "host1"));
      System.out.println("NetworkIT: one connection across every move:\n  " + String.join("\n  ", report));
      assertThat(client.problems()).isEmpty();
    }
    // the source's taps went with the source QEMUs: only the current host's tap is on the bridge
    JsonNode now = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(bridgePorts()).filteredOn(p -> p.startsWith("fy") && !p.equals(network.get("veth_root").asText()))
        .containsExactly(now.at("/nics/0/tap").asText());
  }

  @Test
  @Order(3)
  void clusterDown_leavesNoTapBridgeVethNamespaceOrDnsmasq() throws Exception {
    long dnsmasq = Long.parseLong(Files.readString(Path.of(network.get("pid_file").asText())).strip());

    ferry.ok("cluster", "down");

    for (String link : List.of(network.get("bridge").asText(), network.get("veth_root").asText())) {
      assertThat(Files.exists(Path.of("/sys/class/net", link))).as(link).isFalse();
    }
    for (String tap : taps) assertThat(Files.exists(Path.of("/sys/class/net", tap))).as("tap " + tap).isFalse();
    assertThat(Files.exists(Path.of("/run/netns", network.get("namespace").asText()))).isFalse();
    assertThat(ProcessHandle.of(dnsmasq).filter(ProcessHandle::isAlive)).as("dnsmasq pid " + dnsmasq).isEmpty();
    assertThat(run("ip", "route", "show", "type", "unreachable")).doesNotContain(network.get("subnet").asText());
  }

  /**
   * One move while the client streams: the connection carries on with no problem, lines keep
   * coming after it, and after a live migration the bridge forwards the guest's MAC to the
   * target's tap within a second. Returns the line of the report.
   */
  private static String move(StreamClient client, String what, String host, String mac, String... cmd)
      throws Exception {
    long before = client.mark();
    var list = new ArrayList<>(List.of(cmd));
    list.add("--json");
    JsonNode record = ferry.ok(list.toArray(String[]::new)).lastJson();
    long done = System.nanoTime();
    assertThat(record.get("status").asText()).as(what + ": " + record).isEqualTo("succeeded");
    // read the fdb before anything slower (a CLI call starts a JVM): the tap is the one its name rule gives
    String tap = TapNames.of(host, "web", 0, mac);
    String fdb = null;
    String announce = "-";
    if (record.get("kind").asText().equals("live")) {
      announce = record.path("network_announce").asText("");
      assertThat(announce).as(what + ": the target announced the guest's NIC").contains("announce-self").contains(mac);
      while (System.nanoTime() - done < 1_000_000_000L) {
        fdb = fdbPort(mac);
        if (tap.equals(fdb)) break;
        Thread.sleep(20);
      }
      assertThat(fdb).as(what + ": bridge fdb entry of " + mac + " within 1 s after the switchover").isEqualTo(tap);
    }
    JsonNode vm = ferry.ok("vm", "show", "web", "--json").json();
    owned.own(vm.get("pid").asLong());
    assertThat(vm.get("host").asText()).isEqualTo(host);
    assertThat(vm.at("/nics/0/mac").asText()).as("the MAC stays").isEqualTo(mac);
    assertThat(vm.at("/nics/0/tap").asText()).isEqualTo(tap);
    if (!taps.contains(tap)) taps.add(tap);
    awaitLines(client, client.received() + 100);
    assertThat(client.problems()).as(what).isEmpty();
    assertThat(client.received()).isGreaterThan(before);
    return String.format("%-26s longest silence %7.1f ms, qemu downtime %s ms, network_announce: %s", what + ":",
        client.maxSilenceMs(), record.path("downtime_ms").asText("-"), announce);
  }

  /**
   * A live migration cancelled while it copies (its stream capped at 1 MiB/s, so it cannot finish
   * first): the target's tap is on the bridge while it runs and gone after the rollback, the
   * source's stays, and the client's connection carries on.
   */
  private static String cancelled(StreamClient client, String mac, String from, String to) throws Exception {
    var checks = new ClusterChecks(ferry, dir, owned);
    List<String> fin = List.of("succeeded", "failed", "cancelled");
    String sourceTap = TapNames.of(from, "web", 0, mac);
    String targetTap = TapNames.of(to, "web", 0, mac);
    client.mark();
    String id = ferry.ok("migrate", "live", "web", "--to", to, "--bandwidth", "1", "--postcopy", "never", "--detach")
        .out().strip();
    JsonNode migrating = checks.awaitMigration(id, m -> m.get("phase").asText().equals("migrating")
        || fin.contains(m.get("status").asText()), Duration.ofSeconds(60));
    assertThat(migrating.get("phase").asText()).as(migrating.toString()).isEqualTo("migrating");
    assertThat(bridgePorts()).as("the target's tap is on the bridge while the migration runs").contains(targetTap);

    ferry.ok("migration", "cancel", id);

    JsonNode end = checks.awaitMigration(id, m -> fin.contains(m.get("status").asText()), Duration.ofSeconds(60));
    assertThat(end.get("status").asText()).as(end.toString()).isEqualTo("cancelled");
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (Files.exists(Path.of("/sys/class/net", targetTap)) && System.nanoTime() < until) Thread.sleep(100);
    assertThat(Files.exists(Path.of("/sys/class/net", targetTap))).as("the target's tap after the rollback").isFalse();
    assertThat(bridgePorts()).filteredOn(p -> p.startsWith("fy") && !p.equals(network.get("veth_root").asText()))
        .containsExactly(sourceTap);
    JsonNode vm = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(vm.get("host").asText()).isEqualTo(from);
    awaitLines(client, client.received() + 100);
    assertThat(client.problems()).as("cancelled live migration").isEmpty();
    return String.format("%-26s longest silence %7.1f ms, target tap %s removed", "live, cancelled:",
        client.maxSilenceMs(), targetTap);
  }

  private static void assertRefused(String field, String... nic) {
    var args = new ArrayList<>(List.of("vm", "create", "bad", "--host", "host1", "--memory", "128M", "--kernel",
        kernel.toString(), "--initrd", initrd.toString()));
    args.addAll(List.of(nic));
    var r = ferry.run(args.toArray(String[]::new));
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).as(r.toString()).contains(field);
    assertThat(ferry.run("vm", "show", "bad").exit()).isNotZero();
  }

  private static String awaitAddress(GuestConsole console, String mac) throws InterruptedException {
    long until = System.nanoTime() + BOOT.toNanos();
    while (System.nanoTime() < until) {
      for (String l : console.rawLines()) {
        Matcher m = NET.matcher(l.strip());
        if (m.matches()) {
          assertThat(m.group(2)).isEqualTo(mac);
          return m.group(1);
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("no DHCP address in the guest within " + BOOT + "; console:\n" + console.tail(30));
  }

  private static void awaitLines(StreamClient client, long count) throws InterruptedException {
    long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (client.received() < count && client.problems().isEmpty() && System.nanoTime() < until) Thread.sleep(20);
    assertThat(client.problems()).isEmpty();
    assertThat(client.received()).as("lines from the guest").isGreaterThanOrEqualTo(count);
  }

  private static List<String> bridgePorts() throws Exception {
    try (var links = Files.list(Path.of("/sys/class/net", network.get("bridge").asText(), "brif"))) {
      return links.map(p -> p.getFileName().toString()).toList();
    }
  }

  /** The port the bridge forwards {@code mac} to ({@code bridge fdb}), or null. */
  private static String fdbPort(String mac) throws Exception {
    for (String line : run("bridge", "fdb", "show", "br", network.get("bridge").asText()).split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 3 && f[0].equalsIgnoreCase(mac) && f[1].equals("dev")) return f[2];
    }
    return null;
  }

  private static String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor();
    return out;
  }
}
