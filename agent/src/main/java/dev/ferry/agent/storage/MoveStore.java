package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** The move records of one VM: {@code DIR/vms/NAME/moves/DISK.json}, written atomically. */
final class MoveStore {

  private MoveStore() {}

  static Path dir(Path vmDir) {
    return vmDir.resolve("moves");
  }

  static Path file(Path vmDir, String disk) {
    return dir(vmDir).resolve(disk + ".json");
  }

  static Optional<MoveRecord> read(Path vmDir, String disk) {
    Path f = file(vmDir, disk);
    return Files.isRegularFile(f) ? Optional.of(JsonFiles.read(f, MoveRecord.class)) : Optional.empty();
  }

  static MoveRecord write(Path vmDir, MoveRecord record) {
    JsonFiles.write(file(vmDir, record.disk()), record);
    return record;
  }

  static void delete(Path vmDir, String disk) {
    try {
      Files.deleteIfExists(file(vmDir, disk));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + file(vmDir, disk) + ": " + e.getMessage(), e);
    }
  }

  static List<MoveRecord> all(Path vmDir) {
    Path d = dir(vmDir);
    if (!Files.isDirectory(d)) return List.of();
    var out = new ArrayList<MoveRecord>();
    try (Stream<Path> files = Files.list(d)) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList()) {
        out.add(JsonFiles.read(f, MoveRecord.class));
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot list " + d + ": " + e.getMessage(), e);
    }
    return out;
  }
}
