package dev.ferry.api;

import java.util.List;

/**
 * {@code POST /api/vms}. Boots either {@code kernel} (+ {@code initrd}, {@code append}) or
 * {@code image}, a bootable disk image that becomes the first disk. Every path must resolve
 * inside one of the host's pools. {@code cpus} defaults to 1; {@code start} to true.
 */
public record VmCreateRequest(
    String name,
    String host,
    long memoryBytes,
    Integer cpus,
    String kernel,
    String initrd,
    String append,
    String image,
    List<DiskRequest> disks,
    Boolean start) {}
