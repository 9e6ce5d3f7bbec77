package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/outgoing/unlock}: an operator unlocked the VM on the controller
 * ({@code ferry vm unlock}), which ended the migration there; the source agent now lets go of its
 * own record of that migration when no runner drives it any more (a {@code completed} one waiting
 * for a complete that will not come), so the VM takes actions and migrations again.
 *
 * @param migrationId the migration the controller ended; a record of any other one is kept
 * @param reason the operator's words, for this host's log
 */
public record OutgoingUnlock(String migrationId, String reason) {}
