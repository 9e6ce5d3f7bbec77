package dev.ferry.nbd.copy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkHashesTest {

  private static final long MIB = 1 << 20;

  @Test
  void keptChunk_isOneMiB_untilTheDiskHasMoreThanTheLimit() {
    assertThat(ChunkHashes.keptChunk(1024 * MIB)).isEqualTo(MIB);
    assertThat(ChunkHashes.keptChunk(16 * 1024 * MIB)).isEqualTo(MIB);
    assertThat(ChunkHashes.keptChunk(16 * 1024 * MIB + 1)).isEqualTo(2 * MIB);
    long tib = 1024 * 1024 * MIB;
    assertThat(tib / ChunkHashes.keptChunk(tib)).isLessThanOrEqualTo(ChunkHashes.MAX_KEPT);
  }

  @Test
  void touched_namesEveryChunkARangeReaches_andNoOther() {
    var t = ChunkHashes.touched(List.of(new long[] {0, 1}, new long[] {3 * MIB - 1, 3 * MIB + 1},
        new long[] {10 * MIB, 10 * MIB}), MIB);

    assertThat(t.stream().boxed().toList()).containsExactly(0, 2, 3);
  }

  @Test
  void fileChunk_hashesTheBytes_andAShortLastChunk_andPastTheFileEndAsZeroes(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("img.raw");
    byte[] data = new byte[(int) (2 * MIB + 100)];
    for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31);
    Files.write(f, data);
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      assertThat(ChunkHashes.fileChunk(ch, data.length, 1, MIB, buffer)).isEqualTo(sha(data, (int) MIB, (int) MIB));
      assertThat(ChunkHashes.fileChunk(ch, data.length, 2, MIB, buffer)).isEqualTo(sha(data, (int) (2 * MIB), 100));
      // a raw file shorter than the virtual disk: the rest reads as zeroes
      byte[] padded = new byte[(int) MIB];
      System.arraycopy(data, (int) (2 * MIB), padded, 0, 100);
      assertThat(ChunkHashes.fileChunk(ch, 3 * MIB, 2, MIB, buffer)).isEqualTo(sha(padded, 0, padded.length));
    }
  }

  private static String sha(byte[] b, int from, int len) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update(b, from, len);
    return HexFormat.of().formatHex(sha.digest());
  }
}
