package dev.ferry.api.agent;

import java.time.Instant;

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
 * @param resumedAt       when this host's {@code cont} of the arrived guest was answered (the
 *                        agent's clock); with the source's STOP it bounds the guest's real pause,
 *                        which QEMU's downtime figure leaves the target's part out of; null before
 *                        the guest resumed here, or when this agent restarted since
 */
public record IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
    String runState, Long pid, String error, String networkAnnounce, Instant resumedAt) {

  /** A status without the time of the resume. */
  public IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
      String runState, Long pid, String error, String networkAnnounce) {
    this(migrationId, phase, migrationStatus, running, runState, pid, error, networkAnnounce, null);
  }

  /** A status without an announcement. */
  public IncomingStatus(String migrationId, IncomingPhase phase, QemuMigrationStatus migrationStatus, boolean running,
      String runState, Long pid, String error) {
    this(migrationId, phase, migrationStatus, running, runState, pid, error, null, null);
  }
}
