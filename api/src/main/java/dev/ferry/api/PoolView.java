package dev.ferry.api;

/** A storage pool: a directory on a host; a shared pool's path is visible on every host that has it. */
public record PoolView(String name, String host, String path, boolean shared, long capacityBytes, long freeBytes) {}
