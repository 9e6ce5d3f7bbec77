package dev.ferry.nbd.copy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct and page-cache writes into one file: whatever path each write takes (aligned from a
 * page-aligned direct buffer, or not), the file holds exactly what was written.
 */
class RawFileTargetTest {

  private static final int SIZE = (1 << 20) + 1000; // an unaligned tail, as a raw image may have
  private static final Set<String> DIRECT_IO_FILE_SYSTEMS = Set.of("ext4", "xfs", "btrfs");

  @TempDir
  Path dir;

  @Test
  void mixedWrites_fileHoldsExactlyWhatWasWritten() throws Exception {
    check(dir.resolve("disk.raw"), true);
  }

  @Test
  void pageCacheOnly_fileHoldsExactlyWhatWasWritten() throws Exception {
    check(dir.resolve("disk.raw"), false);
  }

  private void check(Path image, boolean bypassCache) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
      f.setLength(SIZE);
    }
    byte[] expected = new byte[SIZE];
    try (RawFileTarget t = new RawFileTarget(image, bypassCache)) {
      String fs = Files.getFileStore(image).type();
      if (!bypassCache) {
        assertThat(t.direct()).as("direct writes on %s", fs).isFalse();
      } else if (DIRECT_IO_FILE_SYSTEMS.contains(fs)) {
        assertThat(t.direct()).as("direct writes on %s", fs).isTrue();
        assertThat(t.alignment()).isPositive();
      }
      write(t, expected, 0, aligned(64 << 10, (byte) 0x11));
      write(t, expected, 64 << 10, ByteBuffer.wrap(fill(new byte[64 << 10], (byte) 0x22)));
      write(t, expected, 200_001, aligned(3000, (byte) 0x33));
      ByteBuffer offAddress = aligned(8192 + 1, (byte) 0x44).position(1);
      write(t, expected, 256 << 10, offAddress);
      write(t, expected, 512 << 10, aligned(256 << 10, (byte) 0x55));
      t.zero(520 << 10, 8 << 10);
      Arrays.fill(expected, 520 << 10, 528 << 10, (byte) 0);
      write(t, expected, SIZE - 1000, ByteBuffer.wrap(fill(new byte[1000], (byte) 0x66)));
      t.flush();
    }
    assertThat(Files.readAllBytes(image)).isEqualTo(expected);
  }

  private static void write(RawFileTarget t, byte[] expected, int at, ByteBuffer data) throws Exception {
    int n = data.remaining();
    ByteBuffer copy = data.duplicate();
    copy.get(expected, at, n);
    t.write(at, data);
    assertThat(data.hasRemaining()).isFalse();
  }

  private static ByteBuffer aligned(int length, byte value) {
    ByteBuffer b = ByteBuffer.allocateDirect(length + 8192).alignedSlice(4096).limit(length);
    for (int i = 0; i < length; i++) {
      b.put(i, value);
    }
    return b;
  }

  private static byte[] fill(byte[] a, byte value) {
    Arrays.fill(a, value);
    return a;
  }
}
