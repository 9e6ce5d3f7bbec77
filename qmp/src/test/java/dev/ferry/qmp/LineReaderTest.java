package dev.ferry.qmp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LineReaderTest {

  private static final Path SOCKET = Path.of("/run/ferry/vm1/qmp.sock");

  /** Hands out the bytes a few at a time, as a socket may. */
  private static final class Trickle implements ReadableByteChannel {
    private final ByteBuffer bytes;
    private final SplittableRandom random;

    Trickle(String text, long seed) {
      this.bytes = ByteBuffer.wrap(text.getBytes(UTF_8));
      this.random = new SplittableRandom(seed);
    }

    @Override
    public int read(ByteBuffer dst) {
      if (!bytes.hasRemaining()) {
        return -1;
      }
      int n = Math.min(Math.min(dst.remaining(), bytes.remaining()), 1 + random.nextInt(7));
      dst.put(bytes.slice(bytes.position(), n));
      bytes.position(bytes.position() + n);
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  private static List<String> readAll(LineReader reader) throws IOException {
    List<String> lines = new ArrayList<>();
    for (byte[] line; (line = reader.next()) != null; ) {
      lines.add(new String(line, UTF_8));
    }
    return lines;
  }

  @Test
  void next_linesSplitAcrossReads_areReassembled() throws IOException {
    for (long seed = 0; seed < 20; seed++) {
      LineReader reader = new LineReader(SOCKET,
          new Trickle("{\"a\": 1}\n{\"b\": 2}\r\n\n{\"c\": \"é\"}\n", seed), 64);

      assertThat(readAll(reader)).as("seed %d", seed)
          .containsExactly("{\"a\": 1}", "{\"b\": 2}", "", "{\"c\": \"é\"}");
      assertThat(reader.endedMidLine()).isFalse();
    }
  }

  @Test
  void next_lineOfExactlyTheLimit_isAccepted() throws IOException {
    LineReader reader = new LineReader(SOCKET, new Trickle("x".repeat(16) + "\n", 1), 16);

    assertThat(readAll(reader)).containsExactly("x".repeat(16));
  }

  @Test
  void next_lineOneByteOverTheLimit_isAProtocolError() {
    LineReader reader = new LineReader(SOCKET, new Trickle("x".repeat(17) + "\n", 1), 16);

    assertThatThrownBy(reader::next)
        .isInstanceOf(QmpProtocolException.class)
        .hasMessageStartingWith(
            "qmp message from " + SOCKET + " exceeds the read limit of 16 bytes");
  }

  @Test
  void next_streamEndsInsideALine_returnsNullAndSaysSo() throws IOException {
    LineReader reader = new LineReader(SOCKET, new Trickle("{\"a\": 1}\n{\"b\"", 3), 64);

    assertThat(readAll(reader)).containsExactly("{\"a\": 1}");
    assertThat(reader.endedMidLine()).isTrue();
  }
}
