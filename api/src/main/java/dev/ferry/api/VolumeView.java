package dev.ferry.api;

/** A disk image in a pool. */
public record VolumeView(String pool, String name, String path, String format, long sizeBytes) {}
