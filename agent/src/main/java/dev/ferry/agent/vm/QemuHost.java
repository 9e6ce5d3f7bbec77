package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuInstallation;

/** The QEMU of this host and the accelerator chosen for it once, at agent start. */
public record QemuHost(QemuInstallation qemu, Accelerator accelerator) {

  MemoryPlan plan(long requestedBytes) {
    return MemoryPlan.plan(requestedBytes, accelerator, qemu.version());
  }
}
