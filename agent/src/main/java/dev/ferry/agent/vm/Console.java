package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.ConsoleChunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a guest's serial console log in chunks of at most {@link #MAX_CHUNK} bytes: from a byte
 * offset (to follow it), or its last lines. A full chunk ends at its last newline, so a chunk
 * never splits a line or a UTF-8 character and {@code next_offset} picks up exactly there.
 */
final class Console {

  static final int MAX_CHUNK = 64 * 1024;
  static final int MAX_TAIL_LINES = 10_000;

  private Console() {}

  static ConsoleChunk read(Path log, String host, Long offset, Integer tail) {
    if (offset != null && tail != null) throw AgentException.badInput("tail", tail.toString(), "either offset or tail, not both");
    if (offset != null && offset < 0) throw AgentException.badInput("offset", offset.toString(), "a byte offset >= 0");
    if (tail != null && (tail < 0 || tail > MAX_TAIL_LINES)) {
      throw AgentException.badInput("tail", tail.toString(), "0 to " + MAX_TAIL_LINES + " lines");
    }
    try (FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
      long size = ch.size();
      if (tail != null) return tail(ch, size, host, tail);
      long from = Math.min(offset == null ? 0 : offset, size);
      byte[] bytes = readAt(ch, from, (int) Math.min(MAX_CHUNK, size - from));
      int len = bytes.length;
      if (len == MAX_CHUNK && from + len < size) {
        int nl = lastNewline(bytes, len);
        if (nl >= 0) len = nl + 1;
      }
      return new ConsoleChunk(host, from, from + len, new String(bytes, 0, len, StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      return new ConsoleChunk(host, 0, 0, ""); // never started: nothing written yet
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot read console log " + log + ": " + e.getMessage(), e);
    }
  }

  private static ConsoleChunk tail(FileChannel ch, long size, String host, int lines) throws IOException {
    long from = Math.max(0, size - MAX_CHUNK);
    byte[] bytes = readAt(ch, from, (int) (size - from));
    int end = bytes.length;
    if (lines == 0 || end == 0) return new ConsoleChunk(host, size, size, "");
    // a last line without its newline yet still counts as a line
    int pos = bytes[end - 1] == '\n' ? end - 1 : end;
    int start;
    int count = 0;
    while (true) {
      int nl = lastNewline(bytes, pos);
      count++;
      if (nl < 0) {
        // the chunk holds fewer lines than asked; drop a first line cut by the chunk boundary
        start = from == 0 ? 0 : firstLineStart(bytes);
        break;
      }
      if (count == lines) {
        start = nl + 1;
        break;
      }
      pos = nl;
    }
    return new ConsoleChunk(host, from + start, size, new String(bytes, start, end - start, StandardCharsets.UTF_8));
  }

  private static int firstLineStart(byte[] bytes) {
    for (int i = 0; i < bytes.length; i++) if (bytes[i] == '\n') return i + 1;
    return bytes.length;
  }

  private static int lastNewline(byte[] bytes, int before) {
    for (int i = before - 1; i >= 0; i--) if (bytes[i] == '\n') return i;
    return -1;
  }

  private static byte[] readAt(FileChannel ch, long from, int len) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(len);
    while (buf.hasRemaining()) {
      if (ch.read(buf, from + buf.position()) < 0) break;
    }
    return buf.array().length == buf.position() ? buf.array() : java.util.Arrays.copyOf(buf.array(), buf.position());
  }
}
