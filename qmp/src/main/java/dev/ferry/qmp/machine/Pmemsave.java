package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * {@code pmemsave}: writes guest physical memory to a file on the QEMU host. Ferry compares the
 * source's and the destination's RAM page by page after a migration, with both paused.
 *
 * @param val the start address (guest physical)
 * @param size bytes to save, e.g. the whole RAM
 * @param filename the file to write, created or truncated by QEMU
 */
public record Pmemsave(long val, long size, Path filename) implements QmpCommand<Void> {

  public Pmemsave {
    ArgumentMap.requireNonNegative(val, "val");
    if (size <= 0) {
      throw new IllegalArgumentException("size must be positive: " + size);
    }
    Objects.requireNonNull(filename, "filename");
  }

  @Override
  public String name() {
    return "pmemsave";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("val", val)
        .with("size", size)
        .with("filename", filename.toString())
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
