package dev.ferry.agent;

import com.fasterxml.jackson.databind.JavaType;
import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The agent's state files ({@code pools.json}, {@code vm.json}). Written to a temporary file and
 * renamed over the old one, so an agent killed mid-write leaves the previous version, never half
 * a document that would stop the next agent from starting.
 */
public final class JsonFiles {

  private JsonFiles() {}

  public static void write(Path file, Object value) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(value));
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new AgentException(AgentException.Kind.INTERNAL, "cannot write " + file + ": " + e.getMessage(), e);
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
