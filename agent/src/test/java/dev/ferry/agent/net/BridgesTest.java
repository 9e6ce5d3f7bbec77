package dev.ferry.agent.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BridgesTest {

  @TempDir Path sys;

  @Test
  void list_onlyInterfacesWithABridgeDirectory_sorted() throws Exception {
    Files.createDirectories(sys.resolve("vmbr1/bridge"));
    Files.createDirectories(sys.resolve("eth0"));
    Files.createDirectories(sys.resolve("br-a/bridge"));

    assertThat(Bridges.list(sys)).containsExactly("br-a", "vmbr1");
  }

  @Test
  void list_noSysfs_isEmpty() {
    assertThat(Bridges.list(sys.resolve("missing"))).isEmpty();
  }
}
