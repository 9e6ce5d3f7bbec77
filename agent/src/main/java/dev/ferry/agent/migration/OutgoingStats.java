package dev.ferry.agent.migration;

import static dev.ferry.agent.migration.OutgoingMigrations.noMigration;

import dev.ferry.agent.migration.OutgoingMigrations.Outgoing;
import dev.ferry.agent.qemu.qmp.Migration;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorProgress;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import dev.ferry.qmp.migration.QueryMigrate;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code GET outgoing} (and every request on an outgoing migration) answers. While QEMU runs
 * the migration the numbers are the ones the runner's monitor saw last ({@code query-migrate} and
 * the mirror jobs, polled on every {@code MIGRATION} event and at least every 250 ms), so the
 * controller's polls add no QMP traffic; once the migration completed or ended they are the ones
 * persisted with the outcome, so the answer stays the same after QEMU is gone, after an agent
 * restart and after the hand-over.
 */
final class OutgoingStats {

  /** RAM statistics before QEMU reports any: every counter 0. */
  private static final QueryMigrate.MigrationStats NO_RAM =
      new QueryMigrate.MigrationStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

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
      MigrationInfo qm = o == null ? null : o.lastQm;
      return stats(r.migrationId(), r.phase(), qm == null ? MigrationInfo.none() : qm,
          o == null ? List.of() : o.lastMirrors, null, null, null, null, r.error());
    }
    MigrationInfo qm = o.lastQm == null ? MigrationInfo.none() : o.lastQm;
    List<MirrorProgress> mirrors = r.mirrors().isEmpty() ? List.of()
        : o.lastMirrors.isEmpty() ? progress(r.mirrors(), Map.of()) : o.lastMirrors;
    Instant sent = r.migrateSentAt();
    return stats(r.migrationId(), r.phase(), qm, mirrors, null, null,
        sent == null ? null : Duration.between(sent, Instant.now()).toMillis(),
        Duration.between(r.startedAt(), Instant.now()).toMillis(), r.error());
  }

  static MigrationStats finalStats(OutgoingRecord r) {
    MigrationStats s = r.lastStats();
    if (s == null) {
      return stats(r.migrationId(), r.phase(), MigrationInfo.none(), List.of(), null, null, null, null, r.error());
    }
    return new MigrationStats(s.migrationId(), r.phase(), s.status(), s.totalTimeMs(), s.setupTimeMs(),
        s.downtimeMs(), s.expectedDowntimeMs(), s.ramTransferredBytes(), s.ramRemainingBytes(), s.ramTotalBytes(),
        s.dirtyRateBytesPerS(), s.mbps(), s.passes(), s.postcopyRequests(), s.mirrors(), s.pauseMs(), s.switchoverMs(),
        s.wallTimeMs(), s.elapsedMs(), s.error(), s.ramProcessedBytes());
  }

  static List<MirrorProgress> progress(List<OutgoingRecord.Mirror> mirrors, Map<String, BlockJobInfo> jobs) {
    var list = new ArrayList<MirrorProgress>();
    for (OutgoingRecord.Mirror m : mirrors) {
      BlockJobInfo j = jobs.get(m.job());
      list.add(j == null ? new MirrorProgress(m.disk(), m.job(), "gone", false, 0, 0)
          : new MirrorProgress(m.disk(), m.job(), j.status(), j.ready(), j.offset(), j.len()));
    }
    return list;
  }

  /**
   * QEMU's numbers as the API reports them; mirrors and the agent's own timings come from the
   * caller. QEMU's dirty rate is in pages per second: times the page size (4 KiB when QEMU leaves
   * it out). {@code error} wins over QEMU's {@code error-desc}.
   */
  static MigrationStats stats(String migrationId, OutgoingPhase phase, MigrationInfo qm, List<MirrorProgress> mirrors,
      Long pauseMs, Long switchoverMs, Long wallTimeMs, Long elapsedMs, String error) {
    var ram = qm.ram().orElse(NO_RAM);
    long pageSize = ram.pageSize() == 0 ? 4096 : ram.pageSize();
    String err = error != null ? error : qm.errorDesc().orElse(null);
    return new MigrationStats(migrationId, phase, Migration.status(qm), boxed(qm.totalTime()), boxed(qm.setupTime()),
        boxed(qm.downtime()), boxed(qm.expectedDowntime()), ram.transferred(), ram.remaining(), ram.total(),
        ram.dirtyPagesRate() * pageSize, ram.mbps(), ram.dirtySyncCount(), ram.postcopyRequests(), mirrors, pauseMs,
        switchoverMs, wallTimeMs, elapsedMs, err, (ram.duplicate() + ram.normal()) * pageSize);
  }

  private static Long boxed(OptionalLong value) {
    return value.isPresent() ? value.getAsLong() : null;
  }
}
