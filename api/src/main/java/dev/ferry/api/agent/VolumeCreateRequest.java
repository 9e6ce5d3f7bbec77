package dev.ferry.api.agent;

/** {@code POST /agent/volumes}: a new disk image {@code name} in {@code pool}, made with qemu-img. */
public record VolumeCreateRequest(String pool, String name, long sizeBytes, String format) {}
