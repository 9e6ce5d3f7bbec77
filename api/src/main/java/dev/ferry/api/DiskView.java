package dev.ferry.api;

/** A VM's disk: where it lives and how it is stored. {@code id} is also QEMU's node name. */
public record DiskView(String id, String pool, String format, String path, long sizeBytes) {}
