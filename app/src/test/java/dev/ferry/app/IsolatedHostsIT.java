package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-host topology of issue 10: the controller, host1 and host2 each in a network namespace
 * of its own with its own address, joined by one bridge, the CLI beside the controller. A live
 * migration with {@code --copy-storage} between the hosts must work there, with its memory and disk
 * streams seen crossing host2's cable at the switch, not taking a shortcut over loopback.
 */
class IsolatedHostsIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static NamespacedCluster cluster;

  @BeforeAll
  static void threeMachines() throws Exception {
    cluster = NamespacedCluster.isolated(dir, owned);
  }

  @AfterAll
  static void down() throws IOException {
    if (cluster == null) return;
    cluster.close();
    assertThat(cluster.topology.anyLeft()).as("every namespace removed").isFalse();
  }

  @Test
  void migrateLive_copyStorageBetweenIsolatedHosts_everyByteCrossesTheSwitch() throws Exception {
    String controller = cluster.topology.node("controller").address();
    assertThatThrownBy(() -> {
      try (var s = new Socket()) {
        s.connect(new InetSocketAddress(controller, 7100), 2000);
      }
    }).as("this (root) namespace has no way into the hosts' subnet").isInstanceOf(IOException.class);
    FerryProcess ferry = cluster.ferry;
    for (String host : List.of("host1", "host2")) {
      Path local = Files.createDirectories(dir.resolve("hosts").resolve(host).resolve("local"));
      ferry.ok("pool", "create", "local", "--host", host, "--path", local.toString());
    }
    GuestConsole source = cluster.checks.create("iso", "ferry.mem=16:4 ferry.disk=1:8", "local", cluster.kernel,
        cluster.initrd);
    var hb = source.awaitHeartbeatAfter(2, BOOT);
    source.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1, BOOT);
    long before = cluster.topology.bytesThrough("host2");

    JsonNode record = ferry.ok("migrate", "live", "iso", "--to", "host2", "--copy-storage", "--json").lastJson();

    long crossed = cluster.topology.bytesThrough("host2") - before;
    assertThat(record.get("status").asText()).as(record.toString()).isEqualTo("succeeded");
    long streamed = record.get("transferred_bytes").asLong() + record.get("disk_bytes_mirrored").asLong();
    // what must have crossed whatever the encoding: the 8 MiB disk region and 16 MiB of memory the guest
    // filled with non-zero patterns (zero pages and unallocated clusters travel as a few bytes each)
    assertThat(crossed).as("bytes through host2's switch port; a loopback shortcut would leave it near zero")
        .isGreaterThanOrEqualTo(24L << 20);
    JsonNode show = cluster.checks.show("iso");
    owned.own(show.get("pid").asLong());
    assertThat(show.get("host").asText()).isEqualTo("host2");
    cluster.checks.awaitNoQemu("host1", "iso", Duration.ofSeconds(30));
    GuestConsole target = ferry.console("host2", "iso");
    assertThat(target.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(30)).boot()).as("same boot")
        .isEqualTo(hb.boot());
    target.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(30));
    source.assertClean();
    target.assertClean();
    System.out.printf("isolated hosts: %d bytes crossed host2's cable for %d bytes of memory and disk streams%n",
        crossed, streamed);
  }
}
