package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real {@code qemu-nbd} serving a 16 MiB qcow2 image with one 64 KiB
 * cluster written: data and holes read back, and {@code base:allocation} tells them apart.
 */
class NbdClientQemuNbdIT {

  private static final int MIB = 1 << 20;
  private static final int DATA_OFFSET = MIB;
  private static final int DATA_LENGTH = 64 * 1024;

  @TempDir
  Path dir;

  private ChildProcesses processes;
  private Path image;

  @BeforeAll
  static void requireQemuTools() {
    ChildProcesses.assumeInstalled("qemu-nbd");
    ChildProcesses.assumeInstalled("qemu-img");
    ChildProcesses.assumeInstalled("qemu-io");
  }

  @BeforeEach
  void createImage() throws Exception {
    processes = new ChildProcesses(dir);
    image = dir.resolve("disk0.qcow2");
    processes.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
    processes.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 64k", image.toString());
  }

  @AfterEach
  void stopProcesses() throws Exception {
    processes.close();
  }

  private NbdAddress serveOnUnixSocket() throws Exception {
    Path socket = dir.resolve("nbd.sock");
    Process nbd = processes.start("qemu-nbd", "qemu-nbd", "--socket=" + socket,
        "--format=qcow2", "--persistent", "--shared=2", "--export-name=disk0", image.toString());
    processes.awaitSocket(nbd, socket, "qemu-nbd");
    return NbdAddress.unix(socket);
  }

  @Test
  void read_writtenCluster_readsBackThePattern() throws Exception {
    try (NbdClient client = NbdClient.connect(serveOnUnixSocket(), "disk0", List.of())) {
      assertThat(client.size()).isEqualTo(16L * MIB);
      assertThat(client.export().structuredReplies()).isTrue();
      assertThat(client.read(DATA_OFFSET, DATA_LENGTH)).containsOnly(0x5a);
      assertThat(client.read(0, 4096)).containsOnly(0);
    }
  }

  @Test
  void read_acrossDataAndHolesInSmallRequests_matchesTheImage() throws Exception {
    NbdOptions small = NbdOptions.defaults().withMaxRequestSize(48 * 1024);
    try (NbdClient client = NbdClient.connect(serveOnUnixSocket(), "disk0", List.of(), small)) {
      byte[] data = client.read(DATA_OFFSET - 100_000, 300_000);

      for (int i = 0; i < data.length; i++) {
        long at = DATA_OFFSET - 100_000L + i;
        byte expected = at >= DATA_OFFSET && at < DATA_OFFSET + DATA_LENGTH ? (byte) 0x5a : 0;
        if (data[i] != expected) {
          throw new AssertionError("byte at offset " + at + " is " + data[i]);
        }
      }
    }
  }

  @Test
  void blockStatus_baseAllocation_holesAroundTheWrittenCluster() throws Exception {
    try (NbdClient client = NbdClient.connect(serveOnUnixSocket(), "disk0",
        List.of(MetaContexts.BASE_ALLOCATION))) {
      int holeAndZero = MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO;

      assertThat(client.blockStatus(0, client.size(), MetaContexts.BASE_ALLOCATION))
          .containsExactly(
              new Extent(0, DATA_OFFSET, holeAndZero),
              new Extent(DATA_OFFSET, DATA_LENGTH, 0),
              new Extent(DATA_OFFSET + DATA_LENGTH, 16L * MIB - DATA_OFFSET - DATA_LENGTH,
                  holeAndZero));
    }
  }

  @Test
  void connect_unknownExport_namesTheExport() throws Exception {
    NbdAddress address = serveOnUnixSocket();

    assertThatThrownBy(() -> NbdClient.connect(address, "nosuch", List.of()))
        .isInstanceOfSatisfying(NbdOptionException.class,
            e -> assertThat(e.isUnknownExport()).isTrue())
        .hasMessageStartingWith("nbd export 'nosuch' not found at " + address);
  }

  @Test
  void connect_overTcp_readsTheSameData() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Process nbd = processes.start("qemu-nbd-tcp", "qemu-nbd", "--bind=127.0.0.1",
        "--port=" + port, "--format=qcow2", "--persistent", "--shared=2",
        "--export-name=disk0", image.toString());
    NbdAddress address = NbdAddress.tcp("127.0.0.1", port);

    try (NbdClient client = connectWhenListening(nbd, address)) {
      assertThat(client.read(DATA_OFFSET, 512)).containsOnly(0x5a);
    }
  }

  private NbdClient connectWhenListening(Process nbd, NbdAddress address) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        return NbdClient.connect(address, "disk0", List.of());
      } catch (NbdConnectionException e) {
        if (!nbd.isAlive() || attempt > 200) {
          throw new AssertionError("qemu-nbd not reachable: " + processes.log("qemu-nbd-tcp"), e);
        }
        Thread.sleep(25);
      }
    }
  }
}
