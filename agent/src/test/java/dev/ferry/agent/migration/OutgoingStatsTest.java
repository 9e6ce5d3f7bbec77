package dev.ferry.agent.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.Json;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorProgress;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.block.QueryBlockJobs;
import dev.ferry.qmp.migration.QueryMigrate;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The API's migration stats as read from QEMU's typed {@code query-migrate} and {@code query-block-jobs} answers. */
class OutgoingStatsTest {

  private static MigrationInfo queryMigrate(String json) throws Exception {
    return new QueryMigrate().parse(Json.mapper().readTree(json));
  }

  @Test
  void stats_activePreCopy_readsQemuNumbersAndDirtyRateInBytes() throws Exception {
    MigrationInfo qm = queryMigrate("""
        {"expected-downtime": 300, "status": "active", "setup-time": 26, "total-time": 1003,
         "ram": {"total": 134742016, "postcopy-requests": 2, "dirty-sync-count": 3, "page-size": 4096,
                 "remaining": 115703808, "mbps": 0.5, "transferred": 41892, "dirty-pages-rate": 10,
                 "duplicate": 4700, "normal": 9}}""");

    MigrationStats s = OutgoingStats.stats("m1", OutgoingPhase.MIGRATING, qm, List.of(), null, null, 900L, 1200L, null);

    assertThat(s).isEqualTo(new MigrationStats("m1", OutgoingPhase.MIGRATING, QemuMigrationStatus.ACTIVE, 1003L, 26L, null, 300L, 41892,
        115703808, 134742016, 40960, 0.5, 3, 2, List.of(), null, null, 900L, 1200L, null, (4700L + 9) * 4096));
  }

  @Test
  void stats_beforeAnyMigration_isStatusNoneWithZeros() {
    MigrationStats s = OutgoingStats.stats("m1", OutgoingPhase.PREPARING, MigrationInfo.none(), List.of(), null, null, null, null,
        null);

    assertThat(s.status()).isEqualTo(QemuMigrationStatus.NONE);
    assertThat(s.totalTimeMs()).isNull();
    assertThat(s.ramTransferredBytes()).isZero();
    assertThat(s.dirtyRateBytesPerS()).isZero();
    assertThat(s.error()).isNull();
  }

  @Test
  void stats_pageSizeLeftOut_countsDirtyPagesAsFourKiB() throws Exception {
    MigrationInfo qm = queryMigrate("{\"status\": \"active\", \"ram\": {\"dirty-pages-rate\": 3}}");

    assertThat(OutgoingStats.stats("m1", OutgoingPhase.MIGRATING, qm, List.of(), null, null, null, null, null)
        .dirtyRateBytesPerS()).isEqualTo(3 * 4096);
  }

  @Test
  void stats_failedMigration_agentErrorWinsOverQemuDescription() throws Exception {
    MigrationInfo qm = queryMigrate("{\"status\": \"failed\", \"error-desc\": \"Unable to write to socket\"}");

    assertThat(OutgoingStats.stats("m1", OutgoingPhase.FAILED, qm, List.of(), null, null, null, null, null).error())
        .isEqualTo("Unable to write to socket");
    assertThat(OutgoingStats.stats("m1", OutgoingPhase.FAILED, qm, List.of(), null, null, null, null, "cancelled on request")
        .error()).isEqualTo("cancelled on request");
  }

  @Test
  void progress_jobsByIdWithOneGone_reportsEachMirror() throws Exception {
    var jobs = new QueryBlockJobs().parse(Json.mapper().readTree("""
        [{"auto-finalize": true, "io-status": "ok", "device": "lm-disk0", "auto-dismiss": false, "busy": false,
          "len": 1048576, "offset": 1048576, "status": "ready", "paused": false, "speed": 0, "ready": true,
          "type": "mirror"}]"""));
    var byId = new java.util.LinkedHashMap<String, QueryBlockJobs.BlockJobInfo>();
    jobs.forEach(j -> byId.put(j.device(), j));
    var mirrors = List.of(new OutgoingRecord.Mirror("disk0", "disk0", "lm-nbd-disk0", "lm-disk0", "disk0"),
        new OutgoingRecord.Mirror("disk1", "disk1", "lm-nbd-disk1", "lm-disk1", "disk1"));

    assertThat(OutgoingStats.progress(mirrors, byId)).containsExactly(
        new MirrorProgress("disk0", "lm-disk0", "ready", true, 1048576, 1048576),
        new MirrorProgress("disk1", "lm-disk1", "gone", false, 0, 0));
  }
}
