package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
  private static final Duration SETTLE = NamespacedCluster.SETTLE;
  private static final Duration OUTAGE = Duration.ofSeconds(12);
  private static final List<String> FINAL = List.of("succeeded", "failed", "cancelled");
  private static NamespacedCluster cluster;
  private static TwoHostNetwork net;
  private static FerryProcess ferry;
  private static ClusterChecks checks;

  @BeforeAll
  static void twoHostsOverARealLink() throws Exception {
    cluster = NamespacedCluster.start(dir, owned);
    net = cluster.net;
    ferry = cluster.ferry;
    checks = cluster.checks;
  }

  @AfterAll
  static void down() throws IOException {
    if (cluster != null) cluster.close();
  }

  @Test
  void postcopy_linkCutWhileSplit_neverReportsSuccessUntilRecoveredThenTheGuestIsWhole() throws Exception {
    GuestConsole source = checks.create("split", "ferry.mem=96:0", "shared", cluster.kernel, cluster.initrd);
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
    assertThat(cluster.hostState("host2")).as("the cut is real").isEqualTo("unreachable");
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

  private static void await(String what, NamespacedCluster.Check check, Duration timeout) throws Exception {
    NamespacedCluster.await(what, check, timeout);
  }
}
