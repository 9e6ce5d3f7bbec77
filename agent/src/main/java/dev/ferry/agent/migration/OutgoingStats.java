package dev.ferry.agent.migration;

import static dev.ferry.agent.migration.OutgoingMigrations.noMigration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.api.Json;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code GET outgoing} (and every request on an outgoing migration) answers. While QEMU runs
 * the migration the numbers are asked of it afresh; once the migration completed or ended they
 * are the ones persisted with the outcome, so the answer stays the same after QEMU is gone, after
 * an agent restart and after the hand-over.
 */
final class OutgoingStats {

  /** Empty JSON for stats before QEMU said anything. */
  private static final JsonNode NOTHING_YET = Json.mapper().createObjectNode();

  private final MigrationStore store;
  private final OutgoingMigrations outgoing;

  OutgoingStats(MigrationStore store, OutgoingMigrations outgoing) {
    this.store = store;
    this.outgoing = outgoing;
  }

  MigrationStats of(String name) {
    Optional<OutgoingRecord> rec = store.outgoing(name);
    if (rec.isEmpty()) return store.handedOver(name).map(OutgoingStats::finalStats).orElseThrow(() -> noMigration(name));
    OutgoingRecord r = rec.get();
    Outgoing o = outgoing.watched(name);
    if (o == null || r.phase() == OutgoingPhase.COMPLETED || r.phase().ended() || o.qmp == null || !o.process.isAlive()) {
      if (r.lastStats() != null) return finalStats(r);
      JsonNode qm = o == null ? null : o.lastQm;
      return MigrationQmp.stats(r.migrationId(), r.phase().wire(), qm == null ? NOTHING_YET : qm,
          o == null ? List.of() : o.lastMirrors, null, null, null, null, r.error());
    }
    JsonNode qm = o.qmp.queryMigrate();
    List<MirrorProgress> mirrors = r.mirrors().isEmpty() ? List.of() : progress(r.mirrors(), o.qmp.blockJobs());
    if (!mirrors.isEmpty() && mirrors.stream().noneMatch(m -> m.status().equals("gone"))) o.lastMirrors = mirrors;
    Instant sent = r.migrateSentAt();
    return MigrationQmp.stats(r.migrationId(), r.phase().wire(), qm, mirrors, null, null,
        sent == null ? null : Duration.between(sent, Instant.now()).toMillis(),
        Duration.between(r.startedAt(), Instant.now()).toMillis(), r.error());
  }

  static MigrationStats finalStats(OutgoingRecord r) {
    MigrationStats s = r.lastStats();
    if (s == null) {
      return MigrationQmp.stats(r.migrationId(), r.phase().wire(), NOTHING_YET, List.of(), null, null, null, null, r.error());
    }
    return new MigrationStats(s.migrationId(), r.phase().wire(), s.status(), s.totalTimeMs(), s.setupTimeMs(),
        s.downtimeMs(), s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(),
        s.dirtyRateBytesPerS(), s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(),
        s.wallTimeMs(), s.elapsedMs(), s.error());
  }

  static List<MirrorProgress> progress(List<OutgoingRecord.Mirror> mirrors, Map<String, JsonNode> jobs) {
    var list = new ArrayList<MirrorProgress>();
    for (OutgoingRecord.Mirror m : mirrors) {
      JsonNode j = jobs.get(m.job());
      list.add(j == null ? new MirrorProgress(m.disk(), m.job(), "gone", false, 0, 0)
          : new MirrorProgress(m.disk(), m.job(), j.path("status").asText(), j.path("ready").asBoolean(),
              j.path("offset").asLong(), j.path("len").asLong()));
    }
    return list;
  }
}
