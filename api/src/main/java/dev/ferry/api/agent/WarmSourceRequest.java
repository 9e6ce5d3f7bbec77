package dev.ferry.api.agent;

/**
 * {@code PUT /agent/vms/NAME/warm-source}: make a running VM's disks ready for a warm migration's
 * passes: QEMU's own NBD server on a port of the migration range (TLS: only {@code targetHost} let
 * in), a dirty bitmap on each disk that records every write from now on, QEMU told to stay when
 * the guest powers off. A repeat for the same migration answers how it stands.
 *
 * @param migrationId the migration the source serves
 * @param targetHost the host that pulls the disks
 */
public record WarmSourceRequest(String migrationId, String targetHost) {}
