package dev.ferry.agent;

import com.fasterxml.jackson.databind.JavaType;
import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The agent's state files ({@code pools.json}, {@code vm.json}, migration and move records).
 * Written durably: a temporary file, fsynced, renamed over the old one, then the directory
 * fsynced. A rename alone is atomic but not durable: after a power loss the file system may
 * replay the rename before the data (ext4 with delayed allocation), leaving an empty file that
 * stops the next agent from starting, or an older phase than the one acted upon.
 */
public final class JsonFiles {

  private JsonFiles() {}

  public static void write(Path file, Object value) {
    try {
      Files.createDirectories(file.getParent());
      writeDurably(file, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
    } catch (IOException e) {
      throw new AgentException(AgentException.Kind.INTERNAL, "cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Replaces {@code file} with {@code bytes}: the old content or the new one, never a mix, also after a crash. */
  static void writeDurably(Path file, byte[] bytes) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) ch.write(buf);
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(file.toAbsolutePath().getParent());
  }

  /** Makes the rename itself durable; Linux allows fsync on a directory opened read-only. */
  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  public static <T> T read(Path file, Class<T> type) {
    return read(file, Json.mapper().constructType(type));
  }

  public static <T> T read(Path file, JavaType type) {
    try {
      return Json.mapper().readValue(file.toFile(), type);
    } catch (IOException e) {
      throw new AgentException(AgentException.Kind.INTERNAL, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
