package dev.ferry.api.agent;

/**
 * {@code GET /agent/vms/NAME/incoming}: the target's view of a live migration.
 *
 * @param phase           the agent's persisted phase
 * @param migrationStatus QEMU's {@code query-migrate} status on the target, or
 *                        {@link QemuMigrationStatus#GONE} when no QEMU runs
 * @param running         whether the target's vCPUs run
 * @param runState        QEMU's run state, e.g. {@code inmigrate}, {@code paused}, {@code running}
 */
public record IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
    String runState, Long pid, String error) {}
