package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/ft/protect}: on the primary, sync each disk to the secondary's
 * replicas, then start COLO with checkpoints every {@code checkpointIntervalMs}. Answers at once;
 * {@code GET /agent/vms/NAME/ft} follows it. A repeat while it runs or after it succeeded changes
 * nothing.
 */
public record FtProtectRequest(String secondaryHost, String secondaryAddress, int nbdPort, int migrationPort,
    int checkpointIntervalMs) {}
