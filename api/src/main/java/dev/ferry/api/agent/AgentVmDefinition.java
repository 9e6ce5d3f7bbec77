package dev.ferry.api.agent;

import java.util.List;

/**
 * {@code PUT /agent/vms/NAME}: define (or redefine, while stopped) a VM on an agent. The agent
 * resolves a machine-type alias such as {@code q35} to a versioned type once, here. Every path
 * must resolve inside one of the agent's pools.
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
    List<AgentDisk> disks) {}
