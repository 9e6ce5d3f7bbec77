package dev.ferry.api.agent;

import java.util.Map;

/**
 * {@code POST /agent/vms/NAME/outgoing}: start a live migration of a running VM to the target that
 * answered {@link IncomingReady}.
 *
 * @param capabilities {@code migrate-set-capabilities} on the source ({@code events} is always on;
 *                     with {@code nbd}, {@code pause-before-switchover} too)
 * @param parameters   {@code migrate-set-parameters}: {@code max-bandwidth} (bytes/s),
 *                     {@code downtime-limit} (ms), {@code multifd-channels}, …
 * @param nbd          the target's NBD exports for copied disks; null for shared storage
 */
public record OutgoingRequest(String migrationId, String migrationUri, Map<String, Boolean> capabilities,
    Map<String, Object> parameters, NbdTarget nbd) {}
