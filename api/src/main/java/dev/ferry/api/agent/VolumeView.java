package dev.ferry.api.agent;

/** A disk image in a pool. */
public record VolumeView(String pool, String name, String path, String format, long sizeBytes) {}
