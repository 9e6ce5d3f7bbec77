package dev.ferry.api.agent;

/**
 * One disk a live migration copies to the target host (no shared storage): the target agent
 * creates an empty image {@code <vm>-<disk>.<format>} of {@code virtualSize} bytes in {@code pool}
 * and exports it over NBD for the source's mirror.
 */
public record CopyStorageDisk(String disk, String pool, String format, long virtualSize) {}
