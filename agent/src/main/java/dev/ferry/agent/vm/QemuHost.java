package dev.ferry.agent.vm;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.FtQemu;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuUser;

/**
 * The QEMU of this host, the accelerator chosen for it once at agent start, the user it runs as,
 * and the QEMU FT-ready VMs run on ({@link FtQemu}).
 */
public record QemuHost(QemuInstallation qemu, Accelerator accelerator, QemuUser user, FtQemu ft) {

  public QemuHost(QemuInstallation qemu, Accelerator accelerator, QemuUser user) {
    this(qemu, accelerator, user, new FtQemu(qemu.imgBinary()));
  }

  /** QEMU as the agent's own user. */
  public QemuHost(QemuInstallation qemu, Accelerator accelerator) {
    this(qemu, accelerator, QemuUser.current());
  }

  MemoryPlan plan(long requestedBytes) {
    return MemoryPlan.plan(requestedBytes, accelerator, qemu.version());
  }
}
