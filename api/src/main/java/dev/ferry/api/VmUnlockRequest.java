package dev.ferry.api;

/**
 * {@code POST /api/vms/NAME/unlock}: an operator lets go of a VM whose migration is stuck (a host
 * lost for good), after looking at both hosts. The reason is kept in the migration's record.
 *
 * @param reason why the operator unlocks it, in their words; required
 */
public record VmUnlockRequest(String reason) {}
