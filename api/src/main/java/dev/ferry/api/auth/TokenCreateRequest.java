package dev.ferry.api.auth;

/** {@code POST /api/tokens}: a named user token of one role. */
public record TokenCreateRequest(String name, Role role) {}
