package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/vms/NAME}: define (or redefine, while stopped) a VM on an agent. The agent
 * resolves a machine-type alias such as {@code q35} to a versioned type once, here. Every path
 * must resolve inside one of the agent's pools. {@code nics} (null: none) are created as taps on
 * their bridges before QEMU starts. {@code ftReady} (null: false): the VM runs on the QEMU that
 * passed the host's FT probe with each disk under a quorum node, so that {@code ft enable} can add
 * the replication child later (docs/ft.md); its machine type must be i440fx ({@code pc}).
 */
public record AgentVmDefinition(
    String name,
    int cpus,
    long memoryBytes,
    String machineType,
    String cpuModel,
    String kernel,
    String initrd,
    String append,
    List<AgentDisk> disks,
    List<AgentNic> nics,
    Boolean ftReady) {

  /** A definition that is not FT-ready. */
  public AgentVmDefinition(String name, int cpus, long memoryBytes, String machineType, String cpuModel, String kernel,
      String initrd, String append, List<AgentDisk> disks, List<AgentNic> nics) {
    this(name, cpus, memoryBytes, machineType, cpuModel, kernel, initrd, append, disks, nics, null);
  }

  /** Whether the VM boots with its disks under a quorum on Ferry's FT QEMU, so it can be protected. */
  public boolean ft() {
    return Boolean.TRUE.equals(ftReady);
  }

  /** A definition without NICs. */
  public AgentVmDefinition(String name, int cpus, long memoryBytes, String machineType, String cpuModel, String kernel,
      String initrd, String append, List<AgentDisk> disks) {
    this(name, cpus, memoryBytes, machineType, cpuModel, kernel, initrd, append, disks, null);
  }

  /** This definition with other disks, everything else (NICs included) kept. */
  public AgentVmDefinition withDisks(List<AgentDisk> newDisks) {
    return new AgentVmDefinition(name, cpus, memoryBytes, machineType, cpuModel, kernel, initrd, append, newDisks, nics,
        ftReady);
  }
}
