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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry migrate cold} through the CLI on one two-host cluster (TLS, as {@code cluster up}
 * makes it): a stopped VM whose guest filled its disk with self-checking records moves to host2
 * as raw and as qcow2 and checks its disk there; a sparse 2 GiB disk sends only its data; the
 * verifier catches a corrupted copy; a cancel mid-copy leaves nothing on the target. The tests
 * share the cluster and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ColdMigrationIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final long MIB = 1 << 20;
  private static FerryProcess ferry;
  private static Path faults;
  private static Path kernel;
  private static Path initrd;
  /** the last disk generation the guest of "rec" finished before it was stopped */
  private static long lastGen;

  @BeforeAll
  static void cluster() throws Exception {
    faults = Files.createDirectories(dir.resolve("faults"));
    ferry = new FerryProcess(dir).withEnv("FERRY_FAULT_DIR", faults.toString());
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
    // the guest writes and checks 8 MiB of records at 32 MiB/s; two sweeps, then a clean stop
    GuestConsole rec = create("rec", "ferry.disk=32:8", "32M@local");
    lastGen = rec.await(GuestLine.DiskStatus.class, d -> d.gen() >= 3, BOOT).gen();
    ferry.ok("vm", "stop", "rec", "--timeout", "30s");
    lastGen = rec.lines(GuestLine.DiskStatus.class).getLast().gen();
    rec.assertClean();
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void migrateCold_qcow2ToRaw_startsOnHost2AndItsDiskChecksClean() throws Exception {
    Path old = Path.of(disk("rec").get("path").asText());

    JsonNode record = ferry.ok("migrate", "cold", "rec", "--to", "host2", "--format", "raw", "--start", "--json")
        .lastJson();

    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    assertThat(record.get("kind").asText()).isEqualTo("cold");
    assertThat(record.get("verified").asBoolean()).isTrue();
    assertThat(record.get("copied_bytes").asLong()).as(record.toString()).isBetween(8 * MIB, 10 * MIB);
    assertThat(record.get("skipped_bytes").asLong()).isPositive();
    assertThat(record.get("downtime_ms").asLong()).isPositive();
    assertThat(record.get("total_ms").asLong()).isPositive();
    JsonNode show = ferry.ok("vm", "show", "rec", "--json").json();
    assertThat(show.get("host").asText()).isEqualTo("host2");
    assertThat(show.at("/disks/0/format").asText()).isEqualTo("raw");
    assertThat(show.at("/disks/0/path").asText()).startsWith(dir.resolve("hosts/host2/local").toString());
    assertThat(old).as("the source's image is deleted").doesNotExist();
    assertDiskChecksClean("host2");
  }

  @Test
  @Order(2)
  void migrateCold_rawBackAsQcow2ThenQcow2ToQcow2_startsOnHost2Clean() throws Exception {
    ferry.ok("vm", "stop", "rec", "--timeout", "30s");
    lastGen = ferry.console("host2", "rec").lines(GuestLine.DiskStatus.class).getLast().gen();
    JsonNode back = ferry.ok("migrate", "cold", "rec", "--to", "host1", "--format", "qcow2", "--json").lastJson();
    assertThat(back.get("status").asText()).as(back.toString()).isEqualTo("succeeded");
    assertThat(ferry.ok("vm", "show", "rec", "--json").json().get("state").asText()).as("without --start")
        .isEqualTo("stopped");

    JsonNode record = ferry.ok("migrate", "cold", "rec", "--to", "host2", "--start", "--json").lastJson();

    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    assertThat(record.get("verified").asBoolean()).isTrue();
    assertThat(disk("rec").get("format").asText()).isEqualTo("qcow2");
    assertDiskChecksClean("host2");
  }

  @Test
  @Order(3)
  void migrateCold_corruptedCopy_verifierRefusesAndTheVmStaysWhereItWas() throws Exception {
    ferry.ok("vm", "stop", "rec", "--timeout", "30s");
    JsonNode before = disk("rec");
    Path arm = Files.createFile(faults.resolve("cold.corrupt-after-copy.arm"));
    try {
      var r = ferry.run("migrate", "cold", "rec", "--to", "host1", "--json");

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      JsonNode record = r.lastJson();
      assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("failed");
      assertThat(record.get("verified").asBoolean()).isFalse();
      assertThat(record.get("reason").asText()).contains("disk disk0 differs in chunk 0");
      assertThat(ferry.ok("vm", "show", "rec", "--json").json().get("host").asText()).isEqualTo("host2");
      assertThat(disk("rec")).isEqualTo(before);
      assertNothingOf(record.get("id").asText(), "host1");
    } finally {
      Files.delete(arm);
    }
  }

  @Test
  @Order(4)
  void migrateCold_cancelMidCopy_vmStaysOnHost1AndNothingIsLeftOnHost2() throws Exception {
    // 64 MiB of data on a 2 GiB disk; the guest writes it once, then is stopped
    GuestConsole sparse = create("sparse", "ferry.disk=64:64", "2G@local");
    sparse.await(GuestLine.DiskStatus.class, d -> d.gen() >= 2, BOOT);
    ferry.ok("vm", "stop", "sparse", "--timeout", "30s");
    sparse.assertClean();
    JsonNode before = disk("sparse");
    String id = ferry.ok("migrate", "cold", "sparse", "--to", "host2", "--bandwidth", "4", "--detach").out().strip();
    var checks = new ClusterChecks(ferry, dir, owned);
    checks.awaitMigration(id, m -> m.get("copied_bytes").asLong() > 0, Duration.ofSeconds(60));

    ferry.ok("migration", "cancel", id);
    JsonNode done = checks.awaitMigration(id, m -> !m.get("status").asText().equals("running"),
        Duration.ofSeconds(60));

    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("cancelled");
    JsonNode show = ferry.ok("vm", "show", "sparse", "--json").json();
    assertThat(show.get("host").asText()).isEqualTo("host1");
    assertThat(show.get("state").asText()).isEqualTo("stopped");
    assertThat(disk("sparse")).isEqualTo(before);
    assertNothingOf(id, "host2");
  }

  @Test
  @Order(5)
  void migrateCold_sparse2GiBDisk_sendsAbout64MiB() throws Exception {
    JsonNode record = ferry.ok("migrate", "cold", "sparse", "--to", "host2", "--json").lastJson();

    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    assertThat(record.get("copied_bytes").asLong()).as(record.toString()).isBetween(64 * MIB, 66 * MIB);
    assertThat(record.get("skipped_bytes").asLong()).isGreaterThanOrEqualTo(2048 * MIB - 66 * MIB);
    assertThat(record.get("verified").asBoolean()).isTrue();
    Path image = Path.of(disk("sparse").get("path").asText());
    assertThat(image).startsWith(dir.resolve("hosts/host2/local"));
    System.out.printf("cold copy of a 2 GiB disk with 64 MiB of data: sent %d bytes, skipped %d, total %d ms%n",
        record.get("copied_bytes").asLong(), record.get("skipped_bytes").asLong(), record.get("total_ms").asLong());
  }

  /** The guest's writer runs two full sweeps on host2, checking every record before it rewrites it. */
  private static void assertDiskChecksClean(String host) {
    JsonNode show = ferry.ok("vm", "show", "rec", "--json").json();
    owned.own(show.get("pid").asLong());
    GuestConsole console = ferry.console(host, "rec");
    console.await(GuestLine.DiskStatus.class, d -> d.gen() >= lastGen + 2, BOOT);
    console.assertClean();
  }

  /** No image of the migration, and no VM of that name, on {@code host}. */
  private static void assertNothingOf(String id, String host) throws Exception {
    try (var files = Files.walk(dir.resolve("hosts").resolve(host))) {
      List<String> left = files.map(p -> p.getFileName().toString()).filter(n -> n.contains(id.substring(0, 8)))
          .toList();
      assertThat(left).as("nothing of migration " + id + " left on " + host).isEmpty();
    }
  }

  private static JsonNode disk(String vm) {
    return ferry.ok("vm", "show", vm, "--json").json().get("disks").get(0);
  }

  private static GuestConsole create(String name, String workloads, String disk) {
    JsonNode vm = ferry.ok("vm", "create", name, "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append(workloads), "--disk", disk, "--json").json();
    owned.own(vm.get("pid").asLong());
    return ferry.console("host1", name);
  }
}
