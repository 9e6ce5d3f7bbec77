package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/warm-source/hashes}: the source's chunk hashes of warm migration
 * {@code migrationId}, after its final pass; a ledger of another migration is not answered.
 */
public record WarmHashesRequest(String migrationId) {}
