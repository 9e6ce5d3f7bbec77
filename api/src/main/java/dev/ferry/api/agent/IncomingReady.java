package dev.ferry.api.agent;

import java.util.Map;

/**
 * The answer to {@code PUT /agent/vms/NAME/incoming}: where the source sends the migration stream
 * and, with copied storage, the NBD exports its mirrors write to.
 *
 * @param migrationUri e.g. {@code tcp:127.0.0.1:49152}; hand it to the source as is
 * @param nbdHost      null without copied storage
 * @param nbdPort      null without copied storage
 * @param exports      disk id → NBD export name; empty without copied storage
 */
public record IncomingReady(String migrationId, String migrationUri, String nbdHost, Integer nbdPort,
    Map<String, String> exports) {}
