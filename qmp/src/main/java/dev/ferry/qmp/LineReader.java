package dev.ferry.qmp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Splits the byte stream from QEMU into lines, holding at most the read limit: a line that grows
 * past it fails as soon as it does, not when its newline finally arrives (if ever).
 *
 * <p>Used by the reader thread only; not thread-safe.
 */
final class LineReader {

  private static final int CHUNK = 64 * 1024;
  private static final int INITIAL_LINE = 1024;

  private final Path socket;
  private final ReadableByteChannel in;
  private final int limit;
  private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK).flip();
  private byte[] line = new byte[INITIAL_LINE];
  private int length;
  private boolean truncated;

  LineReader(Path socket, ReadableByteChannel in, int limit) {
    this.socket = socket;
    this.in = in;
    this.limit = limit;
  }

  /**
   * The next line without its {@code \n} (nor a {@code \r} before it), or null at the end of the
   * stream. {@link #endedMidLine()} tells whether the stream stopped inside a line.
   *
   * @throws QmpProtocolException if the line exceeds the read limit
   */
  byte[] next() throws IOException {
    length = 0;
    while (true) {
      while (chunk.hasRemaining()) {
        byte b = chunk.get();
        if (b == '\n') {
          int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
          return Arrays.copyOf(line, end);
        }
        append(b);
      }
      chunk.clear();
      int read = in.read(chunk);
      chunk.flip();
      if (read < 0) {
        truncated = length > 0;
        return null;
      }
    }
  }

  /** After {@link #next()} returned null: whether the peer hung up in the middle of a message. */
  boolean endedMidLine() {
    return truncated;
  }

  private void append(byte b) throws QmpProtocolException {
    if (length == limit) {
      // the excerpt needs only the start; copying the whole line could mean 16 MiB
      throw QmpProtocolException.lineTooLong(socket, limit,
          Arrays.copyOf(line, Math.min(length, 512)));
    }
    if (length == line.length) {
      line = Arrays.copyOf(line, (int) Math.min(limit, 2L * line.length));
    }
    line[length++] = b;
  }
}
