package dev.ferry.api;

import java.util.List;

/**
 * {@code POST /api/vms}. Boots either {@code kernel} (+ {@code initrd}, {@code append}) or
 * {@code image}, a bootable disk image that becomes the first disk. Every path must resolve
 * inside one of the host's pools. {@code cpus} defaults to 1; {@code start} to true. {@code nics}
 * (null or empty: none) are virtio-net NICs on cluster networks.
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
    Boolean start,
    List<NicRequest> nics) {

  /** A VM without NICs (callers from before networks existed). */
  public VmCreateRequest(String name, String host, long memoryBytes, Integer cpus, String kernel, String initrd,
      String append, String image, List<DiskRequest> disks, Boolean start) {
    this(name, host, memoryBytes, cpus, kernel, initrd, append, image, disks, start, null);
  }
}
