package dev.ferry.controller.store;

import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.VmState;

/**
 * A VM as stored: its one owning host, the spec it was created from (JSON of the request) and the
 * last state its agent reported.
 */
public record VmRow(
    String name,
    String host,
    String spec,
    VmState state,
    int cpus,
    long memoryRequestedBytes,
    long memoryGivenBytes,
    String memoryAdjustment,
    String machineType,
    String cpuModel,
    String accelerator,
    Long pid) {

  /** This VM with the live facts an agent reported; the agent's nulls keep what is known. */
  public VmRow with(AgentVmStatus s) {
    return new VmRow(name, host, spec, s.state() == null ? state : s.state(), cpus, memoryRequestedBytes,
        s.memoryGivenBytes() > 0 ? s.memoryGivenBytes() : memoryGivenBytes,
        s.memoryAdjustment() != null ? s.memoryAdjustment() : memoryAdjustment,
        s.machineType() != null ? s.machineType() : machineType,
        cpuModel,
        s.accelerator() != null ? s.accelerator() : accelerator,
        s.pid());
  }
}
