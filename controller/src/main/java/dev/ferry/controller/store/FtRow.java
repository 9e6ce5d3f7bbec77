package dev.ferry.controller.store;

import java.time.Instant;

/**
 * A VM under fault tolerance as stored: its persisted phase, the pair's hosts, and the JSON of
 * what the phases learned ({@code dev.ferry.controller.ft.FtRecord}).
 */
public record FtRow(String vm, String phase, String primaryHost, String secondaryHost, int checkpointIntervalMs,
    String record, Instant created, Instant updated) {}
