package dev.ferry.api;

import java.util.List;

/**
 * What a live migration's preflight decided, with every default applied: stored with the
 * migration and used as is by its runner, also after a controller restart, so a migration never
 * changes course because a rule, a default or a pool changed meanwhile. Null for storage
 * migrations and for records written before it existed.
 *
 * @param maxDowntimeMs  the pause allowed at switchover
 * @param bandwidthMibS  the user's cap, null when uncapped
 * @param postcopy       {@code never}, {@code auto} or {@code always}
 * @param postcopyArmed  whether post-copy is possible at all (QEMU refuses it together with multifd)
 * @param timeoutMs      the whole migration's deadline, null when none
 * @param copies         the disks copied to the target (no shared storage), each with its target pool
 */
public record MigrationPlan(long maxDowntimeMs, Double bandwidthMibS, String postcopy, boolean autoConverge,
    Integer multifd, String compress, boolean copyStorage, String targetPool, Long timeoutMs, boolean postcopyArmed,
    List<PlannedCopy> copies) {

  public MigrationPlan {
    copies = copies == null ? List.of() : List.copyOf(copies);
  }

  /** One disk the migration copies: created empty in {@code pool} on the target and mirrored there. */
  public record PlannedCopy(String disk, String pool, String format, long sizeBytes) {}
}
