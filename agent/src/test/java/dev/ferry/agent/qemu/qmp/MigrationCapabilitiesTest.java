package dev.ferry.agent.qemu.qmp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** A QEMU keeps the capabilities of its earlier migrations: each migration sets all of Ferry's anew. */
class MigrationCapabilitiesTest {

  @Test
  void exactly_switchesOffEveryManagedCapabilityNotAskedFor() {
    Map<String, Boolean> caps = Migration.exactly(Map.of("events", true, "multifd", true));

    assertThat(caps).containsEntry("events", true).containsEntry("multifd", true)
        .containsEntry("postcopy-ram", false).containsEntry("pause-before-switchover", false)
        .containsEntry("auto-converge", false).containsEntry("xbzrle", false).hasSize(Migration.MANAGED.size());
  }

  @Test
  void exactly_passesOthersThrough() {
    assertThat(Migration.exactly(Map.of("x-colo", true))).containsEntry("x-colo", true).containsEntry("events", false);
  }
}
