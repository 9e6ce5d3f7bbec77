package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.VmState;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code DIR/vms/NAME/vm.json} holds: the definition as sent, the spec built from it (with
 * the machine type resolved once), the memory plan and accelerator of the last start, and the
 * last state seen. A restarted agent needs all of it: the plan to report what the guest really
 * got, the state to tell a QEMU that died while no agent watched (crashed) from one that was
 * stopped.
 *
 * <p>{@code liveNodes} names, per disk id, the block nodes the running QEMU uses for that disk
 * when they are not the ones it started with (after a live storage move); empty after a start.
 */
record VmRecord(AgentVmDefinition definition, VmSpec spec, PlannedMemory memory, Accelerator accelerator, VmState state,
    Map<String, BlockNodes> liveNodes) {

  VmRecord {
    liveNodes = liveNodes == null ? Map.of() : Map.copyOf(liveNodes);
  }

  VmRecord(AgentVmDefinition definition, VmSpec spec, PlannedMemory memory, Accelerator accelerator, VmState state) {
    this(definition, spec, memory, accelerator, state, Map.of());
  }

  VmRecord withState(VmState newState) {
    return new VmRecord(definition, spec, memory, accelerator, newState, liveNodes);
  }

  /** A new QEMU starts with the nodes of its command line. */
  VmRecord withLaunch(MemoryPlan plan, Accelerator accel) {
    return new VmRecord(definition, spec, PlannedMemory.of(plan), accel, state, Map.of());
  }

  VmRecord withDisk(AgentVmDefinition newDefinition, VmSpec newSpec, Map<String, BlockNodes> newLiveNodes) {
    return new VmRecord(newDefinition, newSpec, memory, accelerator, state, newLiveNodes);
  }

  /** {@link MemoryPlan} as JSON: Jackson cannot write its {@code Optional} without an extra module. */
  record PlannedMemory(long requestedBytes, long givenBytes, String adjustment) {

    static PlannedMemory of(MemoryPlan plan) {
      return new PlannedMemory(plan.requestedBytes(), plan.givenBytes(), plan.adjustment().orElse(null));
    }

    MemoryPlan toPlan() {
      return new MemoryPlan(requestedBytes, givenBytes, Optional.ofNullable(adjustment));
    }
  }
}
