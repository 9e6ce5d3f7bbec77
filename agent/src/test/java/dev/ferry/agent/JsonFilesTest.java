package dev.ferry.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonFilesTest {

  @Test
  void write_overExistingFile_replacesItAndLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("vms/a/vm.json");
    JsonFiles.write(file, Map.of("state", "running"));
    JsonFiles.write(file, Map.of("state", "stopped"));

    assertEquals(Map.of("state", "stopped"), JsonFiles.read(file, Map.class));
    try (var files = Files.list(file.getParent())) {
      assertEquals(1, files.count(), "only vm.json remains, no vm.json.tmp");
    }
    assertFalse(Files.exists(file.resolveSibling("vm.json.tmp")));
  }
}
