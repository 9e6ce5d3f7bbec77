package dev.ferry.api;

/** {@code POST /api/pools}: a pool on one host ({@code ferry pool create NAME --host H --path DIR [--shared]}). */
public record PoolCreateRequest(String name, String host, String path, boolean shared) {}
