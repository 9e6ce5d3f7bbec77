package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The written chunks' hashes, read by several readers: each chunk's own hash, none missing or swapped. */
class WrittenChunksTest {

  private static final long CHUNK = 64 << 10;

  @TempDir
  Path dir;

  @Test
  void manyChunks_eachGetsItsOwnHash_asOneReaderComputesIt() throws Exception {
    Path image = image(40 * CHUNK + 1000);
    BitSet chunks = new BitSet();
    for (int i = 0; i < 41; i += 3) chunks.set(i);
    chunks.set(40); // the short last chunk

    Map<Integer, String> got = WrittenChunks.hash(chunks, Files.size(image), CHUNK, image, null, "disk0", () -> false);

    assertThat(got.keySet()).containsExactlyInAnyOrderElementsOf(chunks.stream().boxed().toList());
    try (FileChannel f = FileChannel.open(image, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect((int) CHUNK);
      for (int i : got.keySet()) {
        assertThat(got.get(i)).as("chunk %d", i).isEqualTo(ChunkHashes.fileChunk(f, Files.size(image), i, CHUNK, buffer));
      }
    }
    assertThat(got.values()).doesNotHaveDuplicates();
  }

  @Test
  void noChunks_noReaderOpened() throws Exception {
    assertThat(WrittenChunks.hash(new BitSet(), 0, CHUNK, dir.resolve("absent.raw"), null, "disk0", () -> false))
        .isEmpty();
  }

  @Test
  void missingImage_failsWithTheFileNamed() {
    BitSet chunks = new BitSet();
    chunks.set(0, 8);
    Path absent = dir.resolve("absent.raw");
    assertThatThrownBy(() -> WrittenChunks.hash(chunks, 8 * CHUNK, CHUNK, absent, null, "disk0", () -> false))
        .isInstanceOf(IOException.class).hasMessageContaining("absent.raw");
  }

  @Test
  void cancelled_stopsWithCancellation() throws Exception {
    Path image = image(8 * CHUNK);
    BitSet chunks = new BitSet();
    chunks.set(0, 8);
    assertThatThrownBy(() -> WrittenChunks.hash(chunks, 8 * CHUNK, CHUNK, image, null, "disk0", () -> true))
        .isInstanceOf(CancellationException.class);
  }

  private Path image(long size) throws IOException {
    byte[] data = new byte[(int) size];
    new Random(7).nextBytes(data);
    return Files.write(dir.resolve("disk.raw"), data);
  }
}
