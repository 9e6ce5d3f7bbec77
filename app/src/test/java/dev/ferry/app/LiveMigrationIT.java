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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry migrate live} through the CLI between two agents of a local cluster, with the
 * guest dirtying memory and writing its disk throughout. Tests share the cluster and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LiveMigrationIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static FerryProcess ferry;
  private static Path kernel;
  private static Path initrd;

  @BeforeAll
  static void cluster() throws Exception {
    ferry = new FerryProcess(dir);
    ferry.ok("cluster", "up", "--hosts", "2");
    ferry.componentPids().forEach(owned::own);
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
  void migrateLive_sharedStorage_guestRunsOnTheTargetWithoutNoticing() throws Exception {
    GuestConsole source = create("web", "shared");
    var hb = source.awaitHeartbeatAfter(2, BOOT);
    JsonNode predicted = dryRunWithTheWriterSeen("web", "host2");
    assertThat(predicted.get("link_source").asText()).as("no migration between the hosts yet").isEqualTo("default");
    assertThat(predicted.get("predicted_total_ms").asLong()).isPositive();
    assertThat(ferry.ok("migration", "list", "--json").json()).as("a dry run records nothing").isEmpty();

    JsonNode record = ferry.ok("migrate", "live", "web", "--to", "host2", "--json").lastJson();

    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    assertThat(record.at("/prediction/dirty_rate_mib_s").asDouble()).as("the dry run's measurement, reused")
        .isEqualTo(predicted.get("dirty_rate_mib_s").asDouble());
    assertThat(record.at("/prediction/predicted_total_ms").asLong()).isPositive();
    assertThat(record.get("kind").asText()).isEqualTo("live");
    assertThat(record.get("transferred_bytes").asLong()).isPositive();
    assertThat(record.get("downtime_ms").asLong()).isBetween(0L, 5_000L);
    JsonNode show = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(show.get("host").asText()).isEqualTo("host2");
    assertThat(show.get("state").asText()).isEqualTo("running");
    owned.own(show.get("pid").asLong());
    GuestConsole target = console("host2", "web");
    var after = target.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(30));
    assertThat(after.boot()).as("same boot: the guest was not restarted").isEqualTo(hb.boot());
    target.await(GuestLine.MemStatus.class, m -> true, Duration.ofSeconds(20));
    source.assertClean();
    target.assertClean();
    assertThat(target.lines(GuestLine.Ready.class)).as("no boot on the target").isEmpty();
  }

  @Test
  @Order(2)
  void migrateLive_localDiskWithoutCopyStorage_isRefusedSayingSo() throws Exception {
    create("db", "local");

    var r = ferry.run("migrate", "live", "db", "--to", "host2");

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("--copy-storage");
    assertThat(ferry.ok("vm", "show", "db", "--json").json().get("host").asText()).isEqualTo("host1");
  }

  @Test
  @Order(3)
  void migrateLive_copyStorage_diskFollowsTheGuest() throws Exception {
    GuestConsole source = console("host1", "db");
    var hb = source.awaitHeartbeatAfter(2, BOOT);

    JsonNode record = ferry.ok("migrate", "live", "db", "--to", "host2", "--copy-storage", "--json").lastJson();

    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    assertThat(record.get("disk_bytes_mirrored").asLong()).isPositive();
    JsonNode show = ferry.ok("vm", "show", "db", "--json").json();
    owned.own(show.get("pid").asLong());
    assertThat(show.get("host").asText()).isEqualTo("host2");
    assertThat(show.at("/disks/0/path").asText()).startsWith(dir.resolve("hosts/host2/local").toString());
    GuestConsole target = console("host2", "db");
    assertThat(target.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(30)).boot()).isEqualTo(hb.boot());
    target.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(20));
    source.assertClean();
    target.assertClean();
  }

  @Test
  @Order(4)
  void migrateLive_copyStorageIntoAFullPool_rolledBackTheVmKeepsItsDiskAndCanMoveLater() throws Exception {
    Path tiny = Files.createDirectories(dir.resolve("hosts/host2/tiny"));
    run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", tiny.toString());
    try {
      ferry.ok("pool", "create", "tiny", "--host", "host2", "--path", tiny.toString());
      GuestConsole source = create("full", "local");
      var hb = source.awaitHeartbeatAfter(2, BOOT);
      // the guest has written its whole 8 MiB region once: more than the 4 MiB the target pool holds
      source.await(GuestLine.DiskStatus.class, d -> d.gen() >= 2, BOOT);
      String disk = ferry.ok("vm", "show", "full", "--json").json().at("/disks/0/path").asText();

      var r = ferry.run("migrate", "live", "full", "--to", "host2", "--copy-storage", "--target-pool", "tiny", "--json");

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      JsonNode record = r.lastJson();
      assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("failed");
      assertThat(record.get("phase").asText()).as(record.toString()).isEqualTo("rolled_back");
      assertThat(record.get("reason").asText()).as(record.toString()).contains("No space left on device");
      JsonNode show = ferry.ok("vm", "show", "full", "--json").json();
      assertThat(show.get("host").asText()).isEqualTo("host1");
      assertThat(show.get("state").asText()).isEqualTo("running");
      assertThat(show.at("/disks/0/path").asText()).as("the vm keeps its disk").isEqualTo(disk);
      new ClusterChecks(ferry, dir, owned).awaitNoQemu("host2", "full", Duration.ofSeconds(30));
      try (var left = Files.list(tiny)) {
        assertThat(left.toList()).as("no partial image left in the full pool").isEmpty();
      }
      assertThat(source.awaitHeartbeatAfter(source.lastHeartbeat().orElseThrow().seq() + 2, Duration.ofSeconds(30))
          .boot()).as("same boot").isEqualTo(hb.boot());
      long gen = source.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(20)).gen();
      source.await(GuestLine.DiskStatus.class, d -> d.gen() > gen, Duration.ofSeconds(30));
      source.assertClean();
      FaultRecord.write(dir, "migrating", "target pool full during --copy-storage (tmpfs)",
          "rolled back: vm kept running on the source with its disk");

      // nothing was left locked: the same move into a pool with room just works
      JsonNode again = ferry.ok("migrate", "live", "full", "--to", "host2", "--copy-storage", "--json").lastJson();
      assertThat(again.get("status").asText()).as(again.toString()).isEqualTo("succeeded");
      owned.own(ferry.ok("vm", "show", "full", "--json").json().get("pid").asLong());
      console("host2", "full").await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(30));
    } finally {
      run("umount", "-l", tiny.toString());
    }
  }

  /**
   * {@code migrate live --dry-run --json}: QEMU's calc-dirty-rate sees the guest's 4 MiB/s writer.
   * Page sampling reads 512 pages per GiB (128 of this guest's), so one second can miss a writer
   * this small (about 1 in 10); three seconds in a row cannot, in practice.
   */
  private static JsonNode dryRunWithTheWriterSeen(String vm, String to) {
    JsonNode p = null;
    for (int i = 0; i < 3; i++) {
      p = ferry.ok("migrate", "live", vm, "--to", to, "--dry-run", "--json").json();
      if (p.get("dirty_rate_mib_s").asDouble() > 0) return p;
    }
    throw new AssertionError("calc-dirty-rate measured 0 MiB/s three times with the memory writer running: " + p);
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
  }

  private static GuestConsole create(String name, String pool) {
    return new ClusterChecks(ferry, dir, owned).create(name, "ferry.mem=16:4 ferry.disk=1:8", pool, kernel, initrd);
  }

  private static GuestConsole console(String host, String vm) {
    return ferry.console(host, vm);
  }
}
