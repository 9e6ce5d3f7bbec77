package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
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
 * {@code ferry migrate storage} end to end on a one-host local cluster, with the guest writing and
 * checking its disk throughout. The tests share one VM and run in order.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StorageMigrationIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static FerryProcess ferry;
  private static GuestConsole console;

  @BeforeAll
  static void clusterWithAWritingVm() throws Exception {
    ferry = new FerryProcess(dir);
    ferry.ok("cluster", "up", "--hosts", "1");
    ferry.componentPids().forEach(owned::own);
    ferry.ok("pool", "create", "fast", "--host", "host1", "--path", dir.resolve("hosts/host1/fast").toString());
    Path guestDir = Files.createDirectories(dir.resolve("pools/shared/guest"));
    Path kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    Path initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
    JsonNode vm = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append("ferry.disk=2:16"), "--disk", "32M@local",
        "--json").json();
    owned.own(vm.get("pid").asLong());
    console = ferry.console("host1", "web");
    console.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1 && d.block() > 256, BOOT);
  }

  @AfterAll
  static void down() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void migrateStorage_qcow2ToRaw_guestKeepsWritingToTheNewFileOnly() throws Exception {
    Path old = Path.of(disk().get("path").asText());

    var r = ferry.ok("migrate", "storage", "web", "--to-pool", "fast", "--format", "raw", "--json");

    JsonNode record = r.lastJson();
    assertThat(record.get("status").asText()).as(r.toString()).isEqualTo("succeeded");
    assertThat(record.get("verified").asBoolean()).isTrue();
    assertThat(record.get("disk_bytes_mirrored").asLong()).isPositive();
    assertThat(record.get("total_ms").asLong()).isPositive();
    JsonNode now = disk();
    assertThat(now.get("pool").asText()).isEqualTo("fast");
    assertThat(now.get("format").asText()).isEqualTo("raw");
    Path moved = Path.of(now.get("path").asText());
    assertThat(moved).startsWith(dir.resolve("hosts/host1/fast"));
    assertThat(old).as("the old image is released").doesNotExist();
    assertThat(adaptiveRateLines()).as("the adaptive rate (the default) ran from a baseline measured on the writing guest")
        .singleElement().asString().containsPattern("guest write latency before the mirror [1-9][0-9]* us");
    assertGuestWritesTo(moved);
  }

  @Test
  @Order(2)
  void migrateStorage_rawToQcow2KeepingTheSource_oldFileStopsChanging() throws Exception {
    Path old = Path.of(disk().get("path").asText());

    JsonNode record = ferry.ok("migrate", "storage", "web", "--to-pool", "local", "--format", "qcow2",
        "--keep-source", "--no-adaptive-rate", "--json").lastJson();

    assertThat(record.get("status").asText()).isEqualTo("succeeded");
    assertThat(adaptiveRateLines()).as("--no-adaptive-rate").hasSize(1);
    assertThat(disk().get("format").asText()).isEqualTo("qcow2");
    assertThat(old).as("--keep-source").exists();
    String before = sha256(old);
    assertGuestWritesTo(Path.of(disk().get("path").asText()));
    assertThat(sha256(old)).as("the old image no longer changes").isEqualTo(before);
  }

  @Test
  @Order(3)
  void migrationCancel_whileMirroring_vmStaysOnItsDiskAndTheCopyIsGone() throws Exception {
    JsonNode before = disk();
    String id = ferry.ok("migrate", "storage", "web", "--to-pool", "fast", "--bandwidth", "1", "--detach").out().strip();

    var cancel = ferry.ok("migration", "cancel", id);
    JsonNode done = awaitFinal(id);

    assertThat(done.get("status").asText()).as(cancel.toString()).isEqualTo("cancelled");
    assertThat(disk()).isEqualTo(before);
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("state").asText())
        .as(() -> "after the cancel; host1 log tail:\n" + tail(dir.resolve("logs/host1.log"), 60))
        .isEqualTo("running");
    try (var files = Files.list(dir.resolve("hosts/host1/fast"))) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).as("no partial copy left")
          .noneMatch(n -> n.contains(id.substring(0, 8)));
    }
    assertGuestWritesTo(Path.of(before.get("path").asText()));
  }

  private static void assertGuestWritesTo(Path image) throws Exception {
    String before = sha256(image);
    long seq = console.lastHeartbeat().orElseThrow().seq();
    try {
      console.awaitHeartbeatAfter(seq + 3, Duration.ofSeconds(30));
    } catch (AssertionError e) {
      // a silent guest is either paused by QEMU, starved, or hung: say which state Ferry saw
      throw new AssertionError(e.getMessage() + "\nvm show: " + ferry.run("vm", "show", "web", "--json").out()
          + "\nhost1 log tail:\n" + tail(dir.resolve("logs/host1.log"), 40), e);
    }
    assertThat(sha256(image)).as("the guest writes to " + image).isNotEqualTo(before);
    console.assertClean();
    assertThat(console.lines(GuestLine.Ready.class)).as("the guest never restarted").hasSize(1);
  }

  private static List<String> adaptiveRateLines() throws java.io.IOException {
    return Files.readAllLines(dir.resolve("logs/host1.log")).stream().filter(l -> l.contains("adaptive rate for job")
        && l.contains("guest write latency before the mirror")).toList();
  }

  private static String tail(Path log, int n) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    } catch (java.io.IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  private static JsonNode disk() {
    return ferry.ok("vm", "show", "web", "--json").json().get("disks").get(0);
  }



  private static JsonNode awaitFinal(String id) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      JsonNode m = ferry.ok("migration", "show", id, "--json").json();
      if (!m.get("status").asText().equals("running")) return m;
      if (System.nanoTime() > until) throw new AssertionError("migration " + id + " still running: " + m);
      Thread.sleep(300);
    }
  }

  private static String sha256(Path p) throws Exception {
    var md = MessageDigest.getInstance("SHA-256");
    try (var in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 20];
      for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
