package dev.ferry.api.agent;

/**
 * {@code GET /agent/vms/NAME/incoming}: the target's view of a live migration.
 *
 * @param phase           the agent's persisted phase: {@code preparing}, {@code listening},
 *                        {@code finished} (the VM is an ordinary VM of this host), {@code rolled_back}
 * @param migrationStatus QEMU's {@code query-migrate} status on the target ({@code none},
 *                        {@code setup}, {@code active}, {@code completed}, {@code failed}, …), or
 *                        {@code gone} when no QEMU runs
 * @param running         whether the target's vCPUs run
 * @param runState        QEMU's run state, e.g. {@code inmigrate}, {@code paused}, {@code running}
 */
public record IncomingStatus(String migrationId, String phase, String migrationStatus, boolean running,
    String runState, Long pid, String error) {}
