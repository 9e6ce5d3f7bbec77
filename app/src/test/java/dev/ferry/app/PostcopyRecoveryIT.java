package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A post-copy migration whose network link is cut while the guest already runs on the target
 * and half its memory is still on the source: the VM is split between two hosts. host2 lives in
 * a network namespace behind a veth pair ({@link TwoHostNetwork}), so cutting the link is real:
 * the migration stream, the NBD-less return path and the controller's calls to host2 all stall.
 * The user checks that Ferry never calls the migration done while the VM is split, that it
 * recovers (QEMU's migrate-pause / migrate-recover) once the link is back, and that the guest
 * comes through with its memory intact, the same boot, on exactly one host.
 */
class PostcopyRecoveryIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final Duration OUTAGE = Duration.ofSeconds(12);
  private static final List<String> FINAL = List.of("succeeded", "failed", "cancelled");
  private static TwoHostNetwork net;
  private static FerryProcess ferry;
  private static ClusterChecks checks;
  private static Path kernel;
  private static Path initrd;

  @BeforeAll
  static void twoHostsOverARealLink() throws Exception {
    net = TwoHostNetwork.create();
    int port = net.freePortHere();
    String controllerUrl = "http://" + net.hereAddress + ":" + port;
    Path token = dir.resolve("controller/token");
    start(List.of("controller", "--listen", net.hereAddress + ":" + port, "--data", dir.resolve("controller").toString(),
        "--host-timeout", "3s"), "controller", false);
    await("the controller's token file", () -> Files.isRegularFile(token) && Files.size(token) > 0, SETTLE);
    for (String host : List.of("host1", "host2")) {
      boolean far = host.equals("host2");
      String listen = far ? net.thereAddress + ":7101" : "127.0.0.1:" + freeLocalPort();
      start(List.of("agent", "--name", host, "--listen", listen, "--data", dir.resolve("hosts").resolve(host).toString(),
          "--controller", controllerUrl, "--token-file", token.toString()), host, far);
    }
    ferry = new FerryProcess(dir).withEnv("FERRY_CONTROLLER", controllerUrl)
        .withEnv("FERRY_TOKEN", Files.readString(token).strip());
    checks = new ClusterChecks(ferry, dir, owned);
    await("host1 and host2 online", () -> {
      var r = ferry.run("host", "list", "--json");
      if (r.exit() != 0) return false;
      long online = 0;
      for (JsonNode h : r.json()) online += h.get("state").asText().equals("online") ? 1 : 0;
      return online == 2;
    }, SETTLE);
    Path shared = Files.createDirectories(dir.resolve("pools/shared"));
    for (String host : List.of("host1", "host2")) {
      ferry.ok("pool", "create", "shared", "--host", host, "--path", shared.toString(), "--shared");
    }
    Path guestDir = Files.createDirectories(shared.resolve("guest"));
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
  }

  @AfterAll
  static void down() throws IOException {
    // every qemu this test's agents started, by the pid files they wrote
    if (Files.isDirectory(dir.resolve("hosts"))) {
      try (Stream<Path> files = Files.find(dir.resolve("hosts"), 5, (p, a) -> p.getFileName().toString().equals("qemu.pid"))) {
        files.forEach(p -> {
          try {
            owned.own(Long.parseLong(Files.readString(p).strip()));
          } catch (IOException | NumberFormatException e) {
            // no pid in it: nothing to kill
          }
        });
      }
    }
    owned.killAll();
    if (net != null) net.close();
  }

  @Test
  void postcopy_linkCutWhileSplit_neverReportsSuccessUntilRecoveredThenTheGuestIsWhole() throws Exception {
    GuestConsole source = checks.create("split", "ferry.mem=96:0", "shared", kernel, initrd);
    var hb = source.awaitHeartbeatAfter(2, BOOT);
    source.await(GuestLine.MemStatus.class, m -> m.gen() >= 1, BOOT);

    // 4 MiB/s also caps the post-copy stream: ~96 MiB of hot pages keep the VM split for ~20 s
    String id = ferry.ok("migrate", "live", "split", "--to", "host2", "--bandwidth", "4", "--max-downtime", "50",
        "--postcopy", "always", "--detach").out().strip();
    JsonNode split = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText())
        || m.get("postcopy").asBoolean() && m.get("phase").asText().equals("postcopy"), Duration.ofMinutes(3));
    assertThat(split.get("postcopy").asBoolean()).as(split.toString()).isTrue();
    assertThat(split.get("status").asText()).as("still split: " + split).isEqualTo("running");
    GuestConsole target = ferry.console("host2", "split");
    await("the guest running on host2 during post-copy", () -> target.lastHeartbeat().isPresent(), SETTLE);

    net.cut();
    long cutAt = System.nanoTime();
    JsonNode paused = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText())
        || m.path("reason").asText("").contains("post-copy paused"), SETTLE);
    assertThat(paused.get("status").asText()).as("the VM is split, nothing is done: " + paused).isEqualTo("running");
    long noticedMs = (System.nanoTime() - cutAt) / 1_000_000;
    // the whole outage: never a final status while host2 cannot be reached
    long until = System.nanoTime() + OUTAGE.toNanos();
    while (System.nanoTime() < until) {
      JsonNode m = ferry.ok("migration", "show", id, "--json").json();
      assertThat(m.get("status").asText()).as("during the outage: " + m).isEqualTo("running");
      assertThat(m.get("postcopy_recoveries").asInt()).isZero();
      Thread.sleep(1000);
    }
    JsonNode host2 = hostState("host2");
    assertThat(host2.get("state").asText()).as("the cut is real: " + host2).isEqualTo("unreachable");
    net.restore();
    long restoredAt = System.nanoTime();

    JsonNode end = checks.awaitMigration(id, m -> FINAL.contains(m.get("status").asText()), Duration.ofMinutes(4));
    long recoveredMs = (System.nanoTime() - restoredAt) / 1_000_000;
    assertThat(end.get("status").asText()).as(end + "\ncontroller log:\n" + checks.controllerLogAbout(id))
        .isEqualTo("succeeded");
    assertThat(end.get("postcopy_recoveries").asInt()).as(end.toString()).isGreaterThanOrEqualTo(1);
    assertThat(end.get("reason").asText()).as(end.toString()).contains("recovered");
    JsonNode vm = ferry.ok("vm", "show", "split", "--json").json();
    owned.own(vm.get("pid").asLong());
    assertThat(vm.get("host").asText()).isEqualTo("host2");
    assertThat(vm.get("state").asText()).isEqualTo("running");
    var after = target.awaitHeartbeatAfter(target.lastHeartbeat().orElseThrow().seq() + 2, SETTLE);
    assertThat(after.boot()).as("same boot: the guest was not restarted").isEqualTo(hb.boot());
    // two full passes over the working set after the last page came over the recovered stream
    long gen = target.await(GuestLine.MemStatus.class, m -> true, SETTLE).gen();
    target.await(GuestLine.MemStatus.class, m -> m.gen() >= gen + 2, SETTLE);
    source.assertClean();
    target.assertClean();
    assertThat(target.lines(GuestLine.Ready.class)).as("no boot on the target").isEmpty();
    checks.awaitNoQemu("host1", "split", SETTLE);
    FaultRecord.write(dir, "postcopy", "link cut (network namespaces), then restored",
        "recovered and finished on the target: never rolled back");
    System.out.printf("post-copy recovery: pause noticed %d ms after the cut, link down %d s, finished %d ms after the "
        + "link came back, %d recoveries, downtime %s ms: %s%n", noticedMs, OUTAGE.toSeconds(), recoveredMs,
        end.get("postcopy_recoveries").asInt(), end.path("downtime_ms").asText(), end.get("reason").asText());
  }

  // ---- helpers

  private static void start(List<String> args, String name, boolean far) throws IOException {
    var cmd = new ArrayList<>(List.of("setsid", ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-jar", FerryProcess.jar().toString()));
    cmd.addAll(args);
    Path log = Files.createDirectories(dir.resolve("logs")).resolve(name + ".log");
    Process p = new ProcessBuilder(far ? net.inside(cmd) : cmd).redirectInput(new File("/dev/null"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    owned.own(p.pid());
  }

  private static int freeLocalPort() throws IOException {
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static JsonNode hostState(String host) {
    for (JsonNode h : ferry.ok("host", "list", "--json").json()) {
      if (h.get("name").asText().equals(host)) return h;
    }
    throw new AssertionError("no host " + host);
  }

  interface Check {
    boolean ok() throws Exception;
  }

  private static void await(String what, Check check, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > until) throw new AssertionError("not within " + timeout + ": " + what);
      Thread.sleep(250);
    }
  }
}
