package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import org.junit.jupiter.api.Test;

/**
 * Records in the store outlive the Ferry that wrote them: after an upgrade, `ferry migration list`
 * must still read every old record (it failed with "unreadable record" when the view gained
 * fields), while a record that is really broken still fails loudly.
 */
class StoredRecordTest {

  /** Written by the Ferry of commit 59f611f (before postcopy_recoveries and escalations), as stored by its demo. */
  private static final String BEFORE_RECOVERIES = """
      {"id":"415aab5d-1ac7-4792-acf6-185ca973f6e2","kind":"live","vm":"demo","source":"host1","target":"host2",\
      "status":"succeeded","phase":"done","started_at":"2026-11-26T15:47:32.817341293Z",\
      "ended_at":"2026-11-26T15:47:33.756098660Z","total_ms":938,"transferred_bytes":113253052,"remaining_bytes":0,\
      "total_bytes":113253052,"throughput_bytes_per_s":3.3444566076696163E8,"dirty_rate_bytes_per_s":0.0,"passes":3,\
      "eta_ms":null,"downtime_ms":11,"observed_pause_ms":10,"postcopy":false,"disk_bytes_mirrored":0,"verified":null,\
      "reason":null,"disks":[]}""";

  @Test
  void recordFromBeforeTheNewFields_readsWithThemEmpty() throws Exception {
    MigrationView v = MigrationRecord.readStored(BEFORE_RECOVERIES);

    assertThat(v.id()).isEqualTo("415aab5d-1ac7-4792-acf6-185ca973f6e2");
    assertThat(v.status()).isEqualTo(MigrationStatus.SUCCEEDED);
    assertThat(v.downtimeMs()).isEqualTo(11);
    assertThat(v.postcopyRecoveries()).isZero();
    assertThat(v.escalations()).isEmpty();
    assertThat(MigrationRecord.of(v).view(v.endedAt())).isEqualTo(v);
  }

  @Test
  void recordWithAFieldNoFerryWrote_isStillRefused() {
    String odd = BEFORE_RECOVERIES.replace("\"disks\":[]", "\"disks\":[],\"teleported\":true");

    assertThatThrownBy(() -> MigrationRecord.readStored(odd)).hasMessageContaining("teleported");
  }
}
