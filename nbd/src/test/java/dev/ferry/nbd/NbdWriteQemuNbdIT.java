package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NBD_CMD_WRITE, WRITE_ZEROES and FLUSH against a real writable {@code qemu-nbd} on qcow2. */
class NbdWriteQemuNbdIT {

  private static final int MIB = 1 << 20;

  @TempDir
  Path dir;

  private ChildProcesses processes;
  private Path image;

  @BeforeAll
  static void requireQemuTools() {
    ChildProcesses.assumeInstalled("qemu-nbd");
    ChildProcesses.assumeInstalled("qemu-img");
  }

  @BeforeEach
  void createImage() throws Exception {
    processes = new ChildProcesses(dir);
    image = dir.resolve("disk0.qcow2");
    processes.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
  }

  @AfterEach
  void stopProcesses() {
    processes.close();
  }

  private NbdAddress serve(boolean readOnly) throws Exception {
    Path socket = dir.resolve("nbd.sock");
    Process nbd = processes.start("qemu-nbd", "qemu-nbd", "--socket=" + socket,
        "--format=qcow2", "--persistent", "--shared=2", "--export-name=disk0",
        readOnly ? "--read-only" : "--discard=unmap", image.toString());
    processes.awaitSocket(nbd, socket, "qemu-nbd");
    return NbdAddress.unix(socket);
  }

  @Test
  void write_thenZeroPart_readsBackAndBlockStatusShowsTheZeroes() throws Exception {
    try (NbdClient client = NbdClient.connect(serve(false), "disk0",
        List.of(MetaContexts.BASE_ALLOCATION), NbdOptions.defaults().withMaxRequestSize(MIB))) {
      byte[] data = new byte[3 * MIB];
      Arrays.fill(data, (byte) 0x3c);
      client.write(2 * MIB, ByteBuffer.wrap(data)); // three requests of 1 MiB
      client.writeZeroes(3 * MIB, MIB);
      client.flush();

      assertThat(client.read(2 * MIB, MIB)).containsOnly(0x3c);
      assertThat(client.read(3 * MIB, MIB)).containsOnly(0);
      assertThat(client.read(4 * MIB, MIB)).containsOnly(0x3c);
      assertThat(client.blockStatus(3 * MIB, MIB, MetaContexts.BASE_ALLOCATION))
          .allSatisfy(e -> assertThat(e.has(MetaContexts.STATE_ZERO)).isTrue());
    }
    assertThat(processes.run("qemu-img", "compare", "-U", "-f", "qcow2", image.toString(),
        image.toString())).contains("identical");
  }

  @Test
  void write_onReadOnlyExport_refusedBeforeSending() throws Exception {
    try (NbdClient client = NbdClient.connect(serve(true), "disk0", List.of())) {
      assertThatThrownBy(() -> client.write(0, ByteBuffer.allocate(512)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("read-only");
      assertThat(client.isOpen()).isTrue();
      assertThat(client.read(0, 512)).containsOnly(0);
    }
  }

  @Test
  void write_pastTheEnd_refusedBeforeSending() throws Exception {
    try (NbdClient client = NbdClient.connect(serve(false), "disk0", List.of())) {
      assertThatThrownBy(() -> client.write(16L * MIB - 256, ByteBuffer.allocate(512)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out of bounds");
      assertThat(client.isOpen()).isTrue();
    }
  }
}
