package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code GET /agent/vms/NAME/outgoing}: the source's view of a live migration. QEMU's numbers come
 * from {@code query-migrate}; after the migration ended they are the last ones seen.
 *
 * @param phase                the agent's persisted phase
 * @param status               QEMU's migration status
 * @param downtimeMs           what QEMU reports; {@code pauseMs} is what the agent observed
 * @param dirtyRateBytesPerS   dirty-pages-rate × page size
 * @param passes               dirty-sync-count
 * @param pauseMs              source vCPUs stopped ({@code STOP}) → {@code MIGRATION completed}, by
 *                             QEMU's event timestamps; the guest's pause also includes the target's
 *                             {@code cont}
 * @param switchoverMs         {@code pre-switchover} → {@code completed} (copied storage only)
 * @param wallTimeMs           {@code migrate} sent → completed/failed/cancelled, by the agent's clock
 * @param elapsedMs            the outgoing request → completed/failed/cancelled, by the agent's
 *                             clock (includes mirroring copied disks until READY)
 * @param ramProcessedBytes    the RAM the migration went through so far: pages found zero (sent as a
 *                             marker) and pages sent in full, × page size; each pass counts the
 *                             pages it visited, so the first counts the whole RAM. Per second, this
 *                             is the rate the prediction's passes go at (a zero page costs the scan,
 *                             not the link); null from agents before it
 */
public record MigrationStats(
    String migrationId,
    OutgoingPhase phase,
    QemuMigrationStatus status,
    Long totalTimeMs,
    Long setupTimeMs,
    Long downtimeMs,
    Long expectedDowntimeMs,
    long ramTransferredBytes,
    long ramRemainingBytes,
    long ramTotalBytes,
    long dirtyRateBytesPerS,
    double mbps,
    long passes,
    long postcopyRequests,
    List<MirrorProgress> mirrors,
    Long pauseMs,
    Long switchoverMs,
    Long wallTimeMs,
    Long elapsedMs,
    String error,
    Long ramProcessedBytes) {

  /** Stats without the RAM processed (agents before it, tests). */
  public MigrationStats(String migrationId, OutgoingPhase phase, QemuMigrationStatus status, Long totalTimeMs,
      Long setupTimeMs, Long downtimeMs, Long expectedDowntimeMs, long ramTransferredBytes, long ramRemainingBytes,
      long ramTotalBytes, long dirtyRateBytesPerS, double mbps, long passes, long postcopyRequests,
      List<MirrorProgress> mirrors, Long pauseMs, Long switchoverMs, Long wallTimeMs, Long elapsedMs, String error) {
    this(migrationId, phase, status, totalTimeMs, setupTimeMs, downtimeMs, expectedDowntimeMs, ramTransferredBytes,
        ramRemainingBytes, ramTotalBytes, dirtyRateBytesPerS, mbps, passes, postcopyRequests, mirrors, pauseMs,
        switchoverMs, wallTimeMs, elapsedMs, error, null);
  }
}
