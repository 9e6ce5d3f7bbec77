package dev.ferry.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The agents' phases and states went from strings to enums without changing a byte on the wire:
 * the texts below are what agents and controllers of the release before sent and compared.
 */
class WireTextTest {

  private static List<String> texts(Enum<?>[] values) {
    return Arrays.stream(values).map(v -> {
      try {
        return Json.mapper().readTree(Json.mapper().writeValueAsString(v)).asText();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }).toList();
  }

  @Test
  void outgoingPhase_jsonText_isTheAgentsPersistedPhase() {
    assertThat(texts(OutgoingPhase.values())).containsExactly("preparing", "mirroring", "migrating", "switchover",
        "completed", "handed_over", "failed", "cancelled", "reclaimed");
    assertThat(Arrays.stream(OutgoingPhase.values()).map(OutgoingPhase::wire).toList())
        .isEqualTo(texts(OutgoingPhase.values()));
  }

  @Test
  void incomingPhase_jsonText_isTheAgentsPersistedPhase() {
    assertThat(texts(IncomingPhase.values())).containsExactly("preparing", "listening", "resuming", "finished",
        "rolled_back");
  }

  @Test
  void mirrorState_jsonText_isWhatStorageMovesReported() {
    assertThat(texts(MirrorState.values())).containsExactly("none", "running", "ready", "pivoted", "failed", "released");
  }

  @Test
  void qemuMigrationStatus_jsonText_isQemusSpelling() throws Exception {
    assertThat(texts(QemuMigrationStatus.values())).contains("postcopy-active", "postcopy-paused", "postcopy-recover",
        "pre-switchover", "wait-unplug", "gone", "completed");
    for (QemuMigrationStatus s : QemuMigrationStatus.values()) {
      assertThat(QemuMigrationStatus.of(s.qemu())).isEqualTo(s);
    }
    assertThat(Json.answers().readValue("\"postcopy-recover\"", QemuMigrationStatus.class))
        .isEqualTo(QemuMigrationStatus.POSTCOPY_RECOVER);
  }

  @Test
  void qemuMigrationStatus_ofANewerQemu_readsAsUnknown() throws Exception {
    assertThat(QemuMigrationStatus.of("postcopy-teleport")).isEqualTo(QemuMigrationStatus.UNKNOWN);
    assertThat(QemuMigrationStatus.of(null)).isEqualTo(QemuMigrationStatus.NONE);
    assertThat(Json.answers().readValue("\"postcopy-teleport\"", QemuMigrationStatus.class))
        .isEqualTo(QemuMigrationStatus.UNKNOWN);
  }

  @Test
  void migrationStats_asSentByAnOlderAgent_readsIntoTheEnums() throws Exception {
    String json = "{\"migration_id\":\"m\",\"phase\":\"handed_over\",\"status\":\"postcopy-active\","
        + "\"ram_transferred_bytes\":1,\"ram_remaining_bytes\":0,\"ram_total_bytes\":1,\"dirty_rate_bytes_per_s\":0,"
        + "\"mbps\":0,\"passes\":1,\"postcopy_requests\":0}";
    MigrationStats s = Json.answers().readValue(json, MigrationStats.class);
    assertThat(s.phase()).isEqualTo(OutgoingPhase.HANDED_OVER);
    assertThat(s.status()).isEqualTo(QemuMigrationStatus.POSTCOPY_ACTIVE);
    assertThat(Json.mapper().writeValueAsString(s)).contains("\"phase\":\"handed_over\"", "\"status\":\"postcopy-active\"");
  }
}
