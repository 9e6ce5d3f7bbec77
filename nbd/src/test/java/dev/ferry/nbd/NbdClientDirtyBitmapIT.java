package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.BlockDirtyBitmapAdd;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.export.BlockExportAdd;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.testsupport.qmp.HumanMonitorCommand;
import dev.ferry.testsupport.qmp.Transaction;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Warm migration's building block end to end: a QEMU (started {@code -S}, no guest code runs)
 * tracks writes to its disk in bitmap {@code bm0}; one write goes through {@code qemu-io}; the
 * bitmap is rotated out by a transaction, exported over QEMU's NBD server, and the client's
 * {@code qemu:dirty-bitmap:bm0} block status shows exactly the written 64 KiB, as
 * {@code nbdinfo --map} does.
 */
class NbdClientDirtyBitmapIT {

  private static final long SIZE = 16L << 20;
  private static final long WRITE_OFFSET = 2L << 20;
  private static final long WRITE_LENGTH = 64 * 1024;
  private static final String DIRTY = MetaContexts.dirtyBitmap("bm0");

  @TempDir
  Path dir;

  private ChildProcesses processes;
  private QmpClient qmp;

  @BeforeAll
  static void requireQemu() {
    ChildProcesses.assumeInstalled("qemu-system-x86_64");
    ChildProcesses.assumeInstalled("qemu-img");
    ChildProcesses.assumeInstalled("nbdinfo");
  }

  @BeforeEach
  void startQemu() throws Exception {
    processes = new ChildProcesses(dir);
    Path image = dir.resolve("disk0.qcow2");
    processes.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(),
        Long.toString(SIZE));
    Path qmpSocket = dir.resolve("qmp.sock");
    // no guest device on disk0: a virtio-blk without share-rw=on would refuse qemu-io's writes
    Process qemu = processes.start("qemu", "qemu-system-x86_64", "-accel", "tcg", "-S",
        "-nodefaults", "-display", "none", "-machine", "pc-q35-7.2", "-m", "131064k",
        "-qmp", "unix:" + qmpSocket + ",server=on,wait=off",
        "-blockdev", "{\"driver\":\"file\",\"filename\":\"" + image
            + "\",\"node-name\":\"disk0-file\"}",
        "-blockdev", "{\"driver\":\"qcow2\",\"file\":\"disk0-file\",\"node-name\":\"disk0\"}");
    processes.awaitSocket(qemu, qmpSocket, "qemu");
    qmp = QmpClient.connect(qmpSocket, Duration.ofSeconds(10));
  }

  @AfterEach
  void stopQemu() throws Exception {
    if (qmp != null) {
      qmp.close();
    }
    processes.close();
  }

  @Test
  void blockStatus_disabledBitmapAfterOneWrite_reportsExactlyThatRangeDirty() throws Exception {
    qmp.call(new BlockDirtyBitmapAdd("disk0", "bm0", 65536));
    String output = qmp.call(new HumanMonitorCommand("qemu-io disk0 \"write -P 0x11 2M 64k\""));
    assertThat(output).as("qemu-io output (errors come back as text)").isEmpty();
    qmp.call(Transaction.of(Transaction.Action.bitmapAdd("disk0", "bm1", 65536),
        Transaction.Action.bitmapDisable("disk0", "bm0")));
    Path nbdSocket = dir.resolve("nbd.sock");
    qmp.call(NbdServerStart.unix(nbdSocket));
    qmp.call(new BlockExportAdd("inc0", "disk0", "inc0", false, List.of("bm0")));

    List<Extent> dirty;
    try (NbdClient client = NbdClient.connect(NbdAddress.unix(nbdSocket), "inc0",
        List.of(MetaContexts.BASE_ALLOCATION, DIRTY))) {
      assertThat(client.export().isReadOnly()).isTrue();
      dirty = client.blockStatus(0, client.size(), DIRTY);
      assertThat(client.read(WRITE_OFFSET, (int) WRITE_LENGTH)).containsOnly(0x11);
    }

    assertThat(dirty).containsExactly(
        new Extent(0, WRITE_OFFSET, 0),
        new Extent(WRITE_OFFSET, WRITE_LENGTH, MetaContexts.STATE_DIRTY),
        new Extent(WRITE_OFFSET + WRITE_LENGTH, SIZE - WRITE_OFFSET - WRITE_LENGTH, 0));
    assertThat(nbdinfoMap("nbd+unix:///inc0?socket=" + nbdSocket)).isEqualTo(dirty);
    BlockDeviceInfo disk0 = qmp.call(new QueryNamedBlockNodes()).stream()
        .filter(node -> node.nodeName().equals("disk0")).findFirst().orElseThrow();
    assertThat(disk0.dirtyBitmaps()).anySatisfy(bitmap -> {
      assertThat(bitmap.name()).isEqualTo("bm0");
      assertThat(bitmap.recording()).isFalse();
      assertThat(bitmap.count()).isEqualTo(WRITE_LENGTH);
    });
  }

  /** {@code nbdinfo --map}: lines of offset, length, flags and a description. */
  private List<Extent> nbdinfoMap(String uri) throws Exception {
    List<Extent> extents = new ArrayList<>();
    for (String line : processes.run("nbdinfo", "--map=" + DIRTY, uri).split("\n")) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length >= 3) {
        extents.add(new Extent(Long.parseLong(fields[0]), Long.parseLong(fields[1]),
            Integer.parseInt(fields[2])));
      }
    }
    return extents;
  }
}
