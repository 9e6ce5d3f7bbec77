package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/vms/NAME}: define (or redefine, while stopped) a VM on an agent. The agent
 * resolves a machine-type alias such as {@code q35} to a versioned type once, here. Every path
 * must resolve inside one of the agent's pools. {@code nics} (null: none) are created as taps on
 * their bridges before QEMU starts.
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
    List<AgentNic> nics) {

  /** A definition without NICs. */
  public AgentVmDefinition(String name, int cpus, long memoryBytes, String machineType, String cpuModel, String kernel,
      String initrd, String append, List<AgentDisk> disks) {
    this(name, cpus, memoryBytes, machineType, cpuModel, kernel, initrd, append, disks, null);
  }

  /** This definition with other disks, everything else (NICs included) kept. */
  public AgentVmDefinition withDisks(List<AgentDisk> newDisks) {
    return new AgentVmDefinition(name, cpus, memoryBytes, machineType, cpuModel, kernel, initrd, append, newDisks, nics);
  }
}
