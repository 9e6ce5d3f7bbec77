package dev.ferry.api;

import java.util.List;

/**
 * {@code POST /api/vms}. Boots either {@code kernel} (+ {@code initrd}, {@code append}) or
 * {@code image}, a bootable disk image that becomes the first disk. Every path must resolve
 * inside one of the host's pools. {@code cpus} defaults to 1; {@code start} to true. {@code nics}
 * (null or empty: none) are virtio-net NICs on cluster networks. {@code ftReady} (null: false) boots
 * the VM so that {@code ft enable} can protect it later: machine type i440fx ({@code pc}: q35
 * aborts a COLO secondary), its disks under a quorum node, on the QEMU that passed the host's FT
 * probe (docs/ft.md).
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
    List<NicRequest> nics,
    Boolean ftReady) {

  /** A VM that is not FT-ready. */
  public VmCreateRequest(String name, String host, long memoryBytes, Integer cpus, String kernel, String initrd,
      String append, String image, List<DiskRequest> disks, Boolean start, List<NicRequest> nics) {
    this(name, host, memoryBytes, cpus, kernel, initrd, append, image, disks, start, nics, null);
  }

  /** Whether it boots ready for fault tolerance (its disks under a quorum, on Ferry's FT QEMU, i440fx). */
  public boolean ft() {
    return Boolean.TRUE.equals(ftReady);
  }

  /** A VM without NICs (callers from before networks existed). */
  public VmCreateRequest(String name, String host, long memoryBytes, Integer cpus, String kernel, String initrd,
      String append, String image, List<DiskRequest> disks, Boolean start) {
    this(name, host, memoryBytes, cpus, kernel, initrd, append, image, disks, start, null);
  }
}
