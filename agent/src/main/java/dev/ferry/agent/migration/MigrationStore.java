package dev.ferry.agent.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.api.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code DIR/vms/NAME/migration.json}: the one live migration a VM takes part in on this host,
 * as source or as target (its {@code role}). A VM handed over to another host leaves its last
 * source record in {@code DIR/migrations/NAME.json}, so a repeated complete still answers.
 */
final class MigrationStore {

  private final Path vmsDir;
  private final Path historyDir;

  MigrationStore(Path dataDir) {
    this.vmsDir = dataDir.resolve("vms");
    this.historyDir = dataDir.resolve("migrations");
  }

  Path file(String vm) {
    return vmsDir.resolve(vm).resolve("migration.json");
  }

  Optional<OutgoingRecord> outgoing(String vm) {
    return read(file(vm), OutgoingRecord.ROLE, OutgoingRecord.class);
  }

  Optional<IncomingRecord> incoming(String vm) {
    return read(file(vm), IncomingRecord.ROLE, IncomingRecord.class);
  }

  Optional<OutgoingRecord> handedOver(String vm) {
    return read(historyDir.resolve(vm + ".json"), OutgoingRecord.ROLE, OutgoingRecord.class);
  }

  void write(String vm, Object record) {
    JsonFiles.write(file(vm), record);
  }

  void archive(String vm, OutgoingRecord record) {
    JsonFiles.write(historyDir.resolve(vm + ".json"), record);
  }

  /** A VM arriving again: the record of its earlier departure no longer describes it. */
  void forgetArchive(String vm) {
    try {
      Files.deleteIfExists(historyDir.resolve(vm + ".json"));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + historyDir.resolve(vm + ".json") + ": " + e.getMessage(), e);
    }
  }

  void delete(String vm) {
    try {
      Files.deleteIfExists(file(vm));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + file(vm) + ": " + e.getMessage(), e);
    }
  }

  /** After a VM that never arrived was forgotten: its directory, if nothing else is in it. */
  void deleteVmDirIfEmpty(String vm) {
    Path dir = vmsDir.resolve(vm);
    try {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          if (s.findAny().isEmpty()) Files.delete(dir);
        }
      }
    } catch (IOException e) {
      // an empty directory left behind harms nothing
    }
  }

  private static <T> Optional<T> read(Path file, String role, Class<T> type) {
    if (!Files.isRegularFile(file)) return Optional.empty();
    try {
      JsonNode n = Json.mapper().readTree(file.toFile());
      if (!role.equals(n.path("role").asText())) return Optional.empty();
      return Optional.of(Json.mapper().treeToValue(n, type));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
