package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.api.AgentVmDefinition;
import dev.ferry.api.VmState;
import java.util.Optional;

/**
 * What {@code DIR/vms/NAME/vm.json} holds: the definition as sent, the spec built from it (with
 * the machine type resolved once), the memory plan and accelerator of the last start, and the
 * last state seen. A restarted agent needs all of it: the plan to report what the guest really
 * got, the state to tell a QEMU that died while no agent watched (crashed) from one that was
 * stopped.
 */
record VmRecord(AgentVmDefinition definition, VmSpec spec, PlannedMemory memory, Accelerator accelerator, VmState state) {

  VmRecord withState(VmState newState) {
    return new VmRecord(definition, spec, memory, accelerator, newState);
  }

  VmRecord withLaunch(MemoryPlan plan, Accelerator accel) {
    return new VmRecord(definition, spec, PlannedMemory.of(plan), accel, state);
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
