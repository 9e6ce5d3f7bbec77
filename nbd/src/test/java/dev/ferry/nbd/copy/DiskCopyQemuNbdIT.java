package dev.ferry.nbd.copy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The copier between two real {@code qemu-nbd}s: a 256 MiB qcow2 with 24 MiB of data in three
 * places copies to raw and to qcow2, sends exactly the data, leaves the rest sparse, and the
 * chunk hashes of source and copy agree (and disagree after one flipped byte).
 */
class DiskCopyQemuNbdIT {

  private static final long MIB = 1 << 20;
  private static final long SIZE = 256 * MIB;
  private static final long DATA = 24 * MIB;

  @TempDir
  Path dir;

  private final List<Process> started = new ArrayList<>();
  private Path source;

  @BeforeAll
  static void requireQemuTools() {
    for (String tool : List.of("qemu-nbd", "qemu-img", "qemu-io")) {
      boolean found = List.of(System.getenv().getOrDefault("PATH", "").split(":")).stream()
          .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
      assumeTrue(found, tool + " is not installed");
    }
  }

  @BeforeEach
  void createSource() throws Exception {
    source = dir.resolve("src.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", source.toString(), Long.toString(SIZE));
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 8M", "-c", "write -P 0x22 100M 8M",
        "-c", "write -P 0x33 248M 8M", source.toString());
  }

  @AfterEach
  void stop() throws Exception {
    for (Process p : started) {
      p.destroy();
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  @Test
  void copy_qcow2ToRaw_sendsOnlyDataStaysSparseHashesAgree() throws Exception {
    NbdAddress from = serve(source, "qcow2", true, "src");
    Path raw = dir.resolve("dst.raw");
    try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
      f.setLength(SIZE);
    }
    DiskCopy copy = new DiskCopy(plan(from), () -> open(from), () -> new RawFileTarget(raw),
        DiskCopy.Options.forDirectWrites());
    copy.run();

    assertThat(copy.copiedBytes()).isEqualTo(DATA);
    assertThat(copy.skippedBytes()).isEqualTo(SIZE - DATA);
    assertThat(run("qemu-img", "compare", "-U", "-f", "qcow2", "-F", "raw", source.toString(),
        raw.toString())).contains("identical");
    assertThat(allocatedBytes(raw)).isLessThan(DATA + 4 * MIB);

    NbdAddress copyExport = serve(raw, "raw", true, "dst");
    List<String> a = hashes(from);
    assertThat(hashes(copyExport)).isEqualTo(a);
    assertThat(a).hasSize(4);
  }

  @Test
  void copy_qcow2ToQcow2ThroughWritableExport_identicalAndMismatchNamed() throws Exception {
    NbdAddress from = serve(source, "qcow2", true, "src");
    Path dst = dir.resolve("dst.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", dst.toString(), Long.toString(SIZE));
    NbdAddress to = serve(dst, "qcow2", false, "dst");
    DiskCopy copy = new DiskCopy(plan(from), () -> open(from), () -> new NbdTarget(open(to)),
        new DiskCopy.Options(3, 1 << 20, 0, false));
    copy.run();

    assertThat(copy.copiedBytes()).isEqualTo(DATA);
    assertThat(hashes(to)).isEqualTo(hashes(from));
    try (NbdClient c = open(to)) {
      c.write(130 * MIB, java.nio.ByteBuffer.wrap(new byte[] {1}));
      c.flush();
    }
    assertThat(ChunkHashes.firstMismatch(hashes(from), hashes(to))).isEqualTo(2);
  }

  @Test
  void copy_bandwidthCapAndCancel_stopsEarly() throws Exception {
    NbdAddress from = serve(source, "qcow2", true, "src");
    Path raw = dir.resolve("dst.raw");
    try (RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
      f.setLength(SIZE);
    }
    DiskCopy copy = new DiskCopy(plan(from), () -> open(from), () -> new RawFileTarget(raw),
        new DiskCopy.Options(2, 1 << 20, 8 * MIB, true));
    Thread canceller = Thread.ofPlatform().start(() -> {
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        return;
      }
      copy.cancel();
    });
    long t0 = System.nanoTime();
    assertThatThrownBy(copy::run).isInstanceOf(CancellationException.class);
    canceller.join();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // 8 MiB/s for about a second: far from the 24 MiB of data
    assertThat(copy.copiedBytes()).isBetween(4 * MIB, 14 * MIB);
    assertThat(ms).isLessThan(3000);
  }

  private CopyPlan plan(NbdAddress from) throws Exception {
    try (NbdClient c = open(from)) {
      return CopyPlan.fromAllocation(c.size(),
          c.blockStatus(0, c.size(), MetaContexts.BASE_ALLOCATION));
    }
  }

  private List<String> hashes(NbdAddress at) throws Exception {
    try (NbdClient c = open(at)) {
      return ChunkHashes.compute(c, ChunkHashes.DEFAULT_CHUNK);
    }
  }

  private static NbdClient open(NbdAddress at) {
    return NbdClient.connect(at, "disk", List.of(MetaContexts.BASE_ALLOCATION));
  }

  private NbdAddress serve(Path image, String format, boolean readOnly, String name)
      throws Exception {
    Path socket = dir.resolve(name + ".sock");
    List<String> cmd = new ArrayList<>(List.of("qemu-nbd", "--socket=" + socket,
        "--format=" + format, "--persistent", "--shared=8", "--export-name=disk",
        "--cache=none", "--aio=native"));
    cmd.add(readOnly ? "--read-only" : "--discard=unmap");
    cmd.add(image.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile()).start();
    started.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!Files.exists(socket)) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("qemu-nbd for " + name + ": "
            + Files.readString(dir.resolve(name + ".log")));
      }
      Thread.sleep(20);
    }
    return NbdAddress.unix(socket);
  }

  private long allocatedBytes(Path file) throws Exception {
    String[] blocks = run("stat", "-c", "%b %B", file.toString()).strip().split(" ");
    return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
  }

  private String run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
    return out;
  }
}
