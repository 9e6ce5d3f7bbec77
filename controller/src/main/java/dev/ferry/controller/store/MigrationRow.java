package dev.ferry.controller.store;

import dev.ferry.api.MigrationStatus;
import java.time.Instant;

/**
 * A migration as stored. {@code request} and {@code record} are JSON: the request as the user
 * sent it, and the {@code MigrationView} as the API serves it.
 */
public record MigrationRow(
    String id,
    String kind,
    String vm,
    String source,
    String target,
    MigrationStatus status,
    String phase,
    String request,
    String record,
    boolean cancelRequested,
    Instant created,
    Instant updated) {}
