package dev.ferry.api;

/** One new disk of a VM: its size, the pool to create it in ({@code local} when absent), its format ({@code qcow2} when absent). */
public record DiskRequest(long sizeBytes, String pool, String format) {}
