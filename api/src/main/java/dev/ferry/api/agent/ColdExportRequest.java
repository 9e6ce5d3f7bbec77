package dev.ferry.api.agent;

/**
 * {@code PUT /agent/vms/NAME/cold-export}: export a stopped VM's disks read-only for a cold
 * migration's copy; a repeat with the same migration answers the same export.
 *
 * @param migrationId the migration the export serves
 * @param targetHost the host that will pull (its name, for the log and for TLS peer checks)
 */
public record ColdExportRequest(String migrationId, String targetHost) {}
