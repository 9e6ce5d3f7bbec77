package dev.ferry.api.auth;

import java.time.Instant;

/** The answer to {@code POST /api/tokens}: the only time the secret {@code token} is ever shown. */
public record TokenCreated(String name, Role role, Instant createdAt, String token) {}
