package dev.ferry.api.auth;

import java.time.Instant;

/** A user token as {@code GET /api/tokens} lists it: never its secret (the store only has its hash). */
public record TokenView(String name, Role role, Instant createdAt) {}
