package dev.ferry.api.agent;

/**
 * {@code GET /agent/vms/NAME/incoming}: the target's view of a live migration.
 *
 * @param phase           the agent's persisted phase
 * @param migrationStatus QEMU's {@code query-migrate} status on the target, or
 *                        {@link QemuMigrationStatus#GONE} when no QEMU runs
 * @param running         whether the target's vCPUs run
 * @param runState        QEMU's run state, e.g. {@code inmigrate}, {@code paused}, {@code running}
 * @param networkAnnounce what this host sent so the network learns the guest's NICs here after the
 *                        switchover ({@code announce-self} and its parameters); null before the guest
 *                        resumed here, or when it has no NIC
 */
public record IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
    String runState, Long pid, String error, String networkAnnounce) {

  /** A status without an announcement. */
  public IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
      String runState, Long pid, String error) {
    this(migrationId, phase, migrationStatus, running, runState, pid, error, null);
  }
}
