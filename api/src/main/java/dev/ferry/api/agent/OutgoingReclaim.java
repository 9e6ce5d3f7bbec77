package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/outgoing/reclaim}: the migration completed, but the target's QEMU
 * died before its guest ever ran (its agent still said {@code listening}), so the source's paused
 * copy is the only whole one left; the source resumes it and ends the migration as reclaimed.
 *
 * @param migrationId the migration the controller gives up; a record of any other one is kept
 * @param reason why, for this host's log and the record's outcome
 */
public record OutgoingReclaim(String migrationId, String reason) {}
