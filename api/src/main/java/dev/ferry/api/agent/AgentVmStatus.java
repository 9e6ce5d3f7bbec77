package dev.ferry.api.agent;

import dev.ferry.api.VmState;

/** A VM as its agent reports it: the live facts the controller cannot know by itself. */
public record AgentVmStatus(
    String name,
    VmState state,
    Long pid,
    long memoryRequestedBytes,
    long memoryGivenBytes,
    String memoryAdjustment,
    String machineType,
    String accelerator) {}
