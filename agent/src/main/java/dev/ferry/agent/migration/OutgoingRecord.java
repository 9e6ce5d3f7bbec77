package dev.ferry.agent.migration;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.NbdTarget;
import dev.ferry.api.agent.OutgoingPhase;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the source persists of a live migration ({@code DIR/vms/NAME/migration.json}, role
 * {@code source}): the request, the names of everything it creates in QEMU (so a retry or a
 * restarted agent finds them), the timestamps the pause is measured from, and the last numbers
 * QEMU reported (they are gone with the source QEMU).
 *
 * @param postcopyAt when {@code migrate-start-postcopy} was asked for, persisted before it is sent;
 *                   from then on the guest's newest state is on the target, and this host never
 *                   resumes nor cancels its own copy again (null: never switched; older records)
 */
record OutgoingRecord(
    String role,
    String migrationId,
    OutgoingPhase phase,
    String migrationUri,
    Map<String, Boolean> capabilities,
    Map<String, Object> parameters,
    NbdTarget nbd,
    List<Mirror> mirrors,
    boolean wasRunning,
    Instant startedAt,
    Instant migrateSentAt,
    Instant stoppedAt,
    Instant preSwitchoverAt,
    Instant endedAt,
    MigrationStats lastStats,
    String error,
    Instant postcopyAt) {

  static final String ROLE = "source";

  /** One copied disk: the NBD node on the target's export and the mirror job that fills it. */
  record Mirror(String disk, String device, String node, String job, String export) {}

  OutgoingRecord {
    capabilities = capabilities == null ? Map.of() : Map.copyOf(capabilities);
    parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    mirrors = mirrors == null ? List.of() : List.copyOf(mirrors);
  }

  OutgoingRecord withPhase(OutgoingPhase next) {
    return new OutgoingRecord(role, migrationId, next, migrationUri, capabilities, parameters, nbd, mirrors, wasRunning,
        startedAt, migrateSentAt, stoppedAt, preSwitchoverAt, endedAt, lastStats, error, postcopyAt);
  }

  OutgoingRecord withTimes(Instant sent, Instant stopped, Instant preSwitchover, Instant ended) {
    return new OutgoingRecord(role, migrationId, phase, migrationUri, capabilities, parameters, nbd, mirrors, wasRunning,
        startedAt, sent != null ? sent : migrateSentAt, stopped != null ? stopped : stoppedAt,
        preSwitchover != null ? preSwitchover : preSwitchoverAt, ended != null ? ended : endedAt, lastStats, error,
        postcopyAt);
  }

  OutgoingRecord withOutcome(MigrationStats stats, String why) {
    return new OutgoingRecord(role, migrationId, phase, migrationUri, capabilities, parameters, nbd, mirrors, wasRunning,
        startedAt, migrateSentAt, stoppedAt, preSwitchoverAt, endedAt, stats != null ? stats : lastStats,
        why != null ? why : error, postcopyAt);
  }

  OutgoingRecord withPostcopy(Instant at) {
    return new OutgoingRecord(role, migrationId, phase, migrationUri, capabilities, parameters, nbd, mirrors, wasRunning,
        startedAt, migrateSentAt, stoppedAt, preSwitchoverAt, endedAt, lastStats, error, at);
  }

  /** Past the switch to post-copy: the source's copy of the guest is older than the target's, for good. */
  boolean postcopy() {
    return postcopyAt != null;
  }
}
