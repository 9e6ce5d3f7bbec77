package dev.ferry.api;

import java.util.List;

/**
 * A VM as {@code ferry vm show} prints it. {@code memoryGivenBytes} is what QEMU got; it differs
 * from the request when Ferry had to work around a QEMU bug, and {@code memoryAdjustment} then
 * says why. {@code ft} is its fault tolerance (null when it has none).
 */
public record VmView(
    String name,
    String host,
    VmState state,
    int cpus,
    long memoryRequestedBytes,
    long memoryGivenBytes,
    String memoryAdjustment,
    String machineType,
    String cpuModel,
    String accelerator,
    Long pid,
    List<DiskView> disks,
    List<NicView> nics,
    VmFtView ft) {

  /** A VM view without fault tolerance. */
  public VmView(String name, String host, VmState state, int cpus, long memoryRequestedBytes, long memoryGivenBytes,
      String memoryAdjustment, String machineType, String cpuModel, String accelerator, Long pid, List<DiskView> disks,
      List<NicView> nics) {
    this(name, host, state, cpus, memoryRequestedBytes, memoryGivenBytes, memoryAdjustment, machineType, cpuModel,
        accelerator, pid, disks, nics, null);
  }

  /** The same view with {@code ft} (null: not under fault tolerance). */
  public VmView withFt(VmFtView ft) {
    return new VmView(name, host, state, cpus, memoryRequestedBytes, memoryGivenBytes, memoryAdjustment, machineType,
        cpuModel, accelerator, pid, disks, nics, ft);
  }

  /** A VM view without NICs. */
  public VmView(String name, String host, VmState state, int cpus, long memoryRequestedBytes, long memoryGivenBytes,
      String memoryAdjustment, String machineType, String cpuModel, String accelerator, Long pid, List<DiskView> disks) {
    this(name, host, state, cpus, memoryRequestedBytes, memoryGivenBytes, memoryAdjustment, machineType, cpuModel,
        accelerator, pid, disks, List.of());
  }
}
