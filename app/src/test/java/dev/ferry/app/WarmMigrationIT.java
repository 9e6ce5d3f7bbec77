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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry migrate warm} through the CLI on one two-host cluster (TLS, as {@code cluster up}
 * makes it), one VM whose guest keeps writing self-checking records to its 16 MiB of disk at
 * 4 MiB/s (a sweep every 4 s, so every pass has writes to copy): a cancel during a pass leaves it
 * running on host1 and nothing on host2; a manual cutover after several passes and an auto cutover
 * back each move it, running, and the disk then holds exactly the pattern the writer leaves (a
 * write lost between passes or at the cutover shows as a stale record). The tests share the
 * cluster and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarmMigrationIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final String VM = "warm";
  /** MiB the guest's writer sweeps */
  private static final int SWEPT = 16;
  private static FerryProcess ferry;
  private static ClusterChecks checks;
  private static Path workload;

  @BeforeAll
  static void cluster() throws Exception {
    ferry = new FerryProcess(dir);
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    checks = new ClusterChecks(ferry, dir, owned);
    ferry.ok("pool", "create", "fast", "--host", "host2", "--path", dir.resolve("hosts/host2/fast").toString());
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    Path kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    Path initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
    // the host-side checker: the guest's own program, run on a raw image
    workload = dir.resolve("ferry-workload");
    Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-o", workload.toString(),
        TestGuest.repoRoot().resolve("guest/workload/ferry-workload.c").toString()).inheritIO().start();
    assertThat(gcc.waitFor(120, TimeUnit.SECONDS) && gcc.exitValue() == 0).as("gcc builds ferry-workload").isTrue();
    JsonNode vm = ferry.ok("vm", "create", VM, "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append("ferry.disk=4:" + SWEPT), "--disk", "64M@local",
        "--json").json();
    owned.own(vm.get("pid").asLong());
    ferry.console("host1", VM).await(GuestLine.DiskStatus.class, d -> d.gen() >= 2, BOOT);
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void migrateWarm_cancelDuringAPass_vmKeepsRunningOnHost1AndNothingIsLeftOnHost2() throws Exception {
    long pid = checks.qemuPid("host1", VM);
    JsonNode before = disk();
    String id = ferry.ok("migrate", "warm", VM, "--to", "host2", "--bandwidth", "1", "--detach").out().strip();
    checks.awaitMigration(id, m -> m.get("copied_bytes").asLong() > 0, Duration.ofSeconds(60));

    ferry.ok("migration", "cancel", id);
    JsonNode done = checks.awaitMigration(id, m -> !m.get("status").asText().equals("running"), Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("cancelled");
    assertThat(done.get("passes").asInt()).as("cancelled during the first pass").isZero();
    JsonNode show = checks.show(VM);
    assertThat(show.get("host").asText()).isEqualTo("host1");
    assertThat(show.get("state").asText()).isEqualTo("running");
    assertThat(checks.qemuPid("host1", VM)).as("the same qemu, never stopped").isEqualTo(pid);
    assertThat(disk()).isEqualTo(before);
    assertNothingOf(id, "host2");
    checks.awaitNoQemu("host2", VM, Duration.ofSeconds(10));
    GuestConsole console = ferry.console("host1", VM);
    long gen = console.lines(GuestLine.DiskStatus.class).getLast().gen();
    console.await(GuestLine.DiskStatus.class, d -> d.gen() > gen, Duration.ofSeconds(30));
    console.assertClean();
  }

  @Test
  @Order(2)
  void migrateWarm_manualCutoverAfterPasses_runsOnHost2WithEveryRecordWritten() throws Exception {
    String id = ferry.ok("migrate", "warm", VM, "--to", "host2", "--format", "raw", "--sync-interval", "1s",
        "--detach").out().strip();
    JsonNode running = checks.awaitMigration(id, m -> m.get("passes").asInt() >= 3, Duration.ofSeconds(120));
    assertThat(running.get("status").asText()).as("manual: no cutover without the command").isEqualTo("running");
    assertThat(running.get("phase").asText()).isEqualTo("copying");
    assertThat(running.get("predicted_downtime_ms").asLong()).as(running.toString()).isPositive();
    assertThat(running.get("dirty_bytes").asLong()).as("the guest writes between passes").isPositive();

    ferry.ok("migration", "cutover", id);
    JsonNode done = checks.awaitMigration(id, m -> !m.get("status").asText().equals("running"), Duration.ofSeconds(180));

    assertSucceeded(done, "host2");
    assertThat(done.get("passes").asInt()).as("passes before the cutover and the final one").isGreaterThanOrEqualTo(4);
    System.out.printf("warm manual cutover: %d passes, sent %d bytes, predicted downtime %d ms, actual %d ms, "
        + "shutdown %d ms, total %d ms%n", done.get("passes").asInt(), done.get("copied_bytes").asLong(),
        done.get("predicted_downtime_ms").asLong(), done.get("downtime_ms").asLong(),
        done.get("shutdown_ms").asLong(), done.get("total_ms").asLong());
    // the target's QEMU was started before the cutover with its disk staged (a raw node over a
    // placeholder, switched onto the copy): a live storage move must find and pivot that disk
    JsonNode moved = ferry.ok("migrate", "storage", VM, "--to-pool", "fast", "--format", "raw", "--json").lastJson();
    assertThat(moved.get("status").asText()).as(moved.toString()).isEqualTo("succeeded");
    assertThat(moved.get("verified").asBoolean()).as(moved.toString()).isTrue();
    assertThat(disk().get("path").asText()).startsWith(dir.resolve("hosts/host2/fast").toString());
    assertDiskHoldsEveryRecord("host2");
  }

  @Test
  @Order(3)
  void migrateWarm_autoCutover_movesBackOnceThePredictionIsWithinMaxDowntime() throws Exception {
    // back from the pool the storage move put it in, which host1 does not have
    JsonNode done = ferry.ok("migrate", "warm", VM, "--to", "host1", "--target-pool", "local", "--format", "raw",
        "--sync-interval", "1s", "--cutover", "auto", "--max-downtime", "60000", "--json").lastJson();

    assertSucceeded(done, "host1");
    assertThat(done.get("predicted_downtime_ms").asLong()).isLessThanOrEqualTo(60000);
    System.out.printf("warm auto cutover: %d passes, predicted downtime %d ms, actual %d ms (shutdown %d ms)%n",
        done.get("passes").asInt(), done.get("predicted_downtime_ms").asLong(), done.get("downtime_ms").asLong(),
        done.get("shutdown_ms").asLong());
    assertDiskHoldsEveryRecord("host1");
  }

  private static void assertSucceeded(JsonNode done, String host) throws Exception {
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("succeeded");
    assertThat(done.get("kind").asText()).isEqualTo("warm");
    assertThat(done.get("verified").asBoolean()).as(done.toString()).isTrue();
    assertThat(done.get("predicted_downtime_ms").isNull()).as("a prediction is on the record").isFalse();
    assertThat(done.get("downtime_ms").asLong()).as("the actual downtime is on the record").isPositive();
    assertThat(done.get("shutdown_ms").asLong()).isPositive();
    assertThat(done.get("copied_bytes").asLong()).isGreaterThanOrEqualTo((long) SWEPT << 20);
    assertThat(done.get("skipped_bytes").asLong()).as("the unwritten rest of the 64 MiB disk is not sent").isPositive();
    JsonNode show = checks.show(VM);
    assertThat(show.get("host").asText()).isEqualTo(host);
    assertThat(show.get("state").asText()).isEqualTo("running");
    owned.own(show.get("pid").asLong());
    assertKeptHashesCompared(done.get("id").asText());
  }

  /**
   * Both hosts kept their hashes current pass by pass (the source's through TLS, as this cluster
   * serves), so the cutover hashed no chunk afresh: the agents' logs since this migration began say
   * neither that a side's hashes were not kept nor that chunks were hashed at the cutover.
   */
  private static void assertKeptHashesCompared(String id) throws Exception {
    for (String h : List.of("host1", "host2")) {
      String log = Files.readString(dir.resolve("logs/" + h + ".log"));
      int from = log.indexOf(id);
      assertThat(from).as("host %s logged migration %s", h, id).isNotNegative();
      assertThat(log.substring(from)).as("host %s's log", h).doesNotContain("not hashed by the passes",
          "source hashes not kept", "source hashing failed");
    }
    assertThat(Files.readString(dir.resolve("logs/host1.log")) + Files.readString(dir.resolve("logs/host2.log")))
        .contains("source hashed");
  }

  /**
   * The writer goes on on the new host (it resumes the sweep it finds on disk); then the VM is
   * stopped and the whole swept range is checked on the host: it must hold exactly the pattern a
   * sweep writer leaves, {@code [G..G, G-1..G-1]}, so a record lost in a pass or at the cutover
   * (an older generation amid the newer one) fails it. The VM is started again for the next test.
   */
  private static void assertDiskHoldsEveryRecord(String host) throws Exception {
    GuestConsole console = ferry.console(host, VM);
    GuestLine.DiskStatus first = console.await(GuestLine.DiskStatus.class, d -> true, BOOT);
    console.await(GuestLine.DiskStatus.class, d -> d.gen() > first.gen(), BOOT);
    console.assertClean();
    ferry.ok("vm", "stop", VM, "--timeout", "30s");
    JsonNode d = disk();
    assertThat(d.get("format").asText()).isEqualTo("raw");
    ProcessBuilder pb = new ProcessBuilder(workload.toString(), "diskcheck", Integer.toString(SWEPT))
        .redirectErrorStream(true);
    pb.environment().put("FERRY_DISK", d.get("path").asText());
    Process check = pb.start();
    String out = new String(check.getInputStream().readAllBytes());
    assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
    List<GuestLine.DiskCheck> results = out.lines().map(GuestLine::parse).flatMap(java.util.Optional::stream)
        .filter(GuestLine.DiskCheck.class::isInstance).map(GuestLine.DiskCheck.class::cast).toList();
    assertThat(results).as(out).hasSize(1);
    assertThat(results.getFirst().ok()).as(out).isTrue();
    int seen = ferry.console(host, VM).lines(GuestLine.DiskStatus.class).size();
    ferry.ok("vm", "start", VM);
    owned.own(checks.show(VM).get("pid").asLong());
    long until = System.nanoTime() + BOOT.toNanos();
    while (ferry.console(host, VM).lines(GuestLine.DiskStatus.class).size() <= seen + 1) {
      assertThat(System.nanoTime()).as("the writer runs again after the start").isLessThan(until);
      Thread.sleep(500);
    }
  }

  /** No image of the migration on {@code host}. */
  private static void assertNothingOf(String id, String host) throws Exception {
    try (var files = Files.walk(dir.resolve("hosts").resolve(host))) {
      List<String> left = files.map(p -> p.getFileName().toString()).filter(n -> n.contains(id.substring(0, 8)))
          .toList();
      assertThat(left).as("nothing of migration " + id + " left on " + host).isEmpty();
    }
  }

  private static JsonNode disk() {
    return checks.show(VM).get("disks").get(0);
  }
}
