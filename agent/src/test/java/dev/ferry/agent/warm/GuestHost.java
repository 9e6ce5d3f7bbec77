package dev.ferry.agent.warm;

import dev.ferry.agent.cold.ImageHashes;
import dev.ferry.agent.migration.PortRange;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.vm.Vms;
import dev.ferry.agent.qemu.AccelMode;
import dev.ferry.agent.qemu.AcceleratorProbe;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.testsupport.TestGuest;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A host for a test VM under {@code dir}: its data directory, a pool {@code local} holding the test
 * guest's kernel and initrd, and this machine's QEMU (KVM where it works, else TCG).
 */
record GuestHost(Path data, Pools pools, Path pool, Path kernel, Path initrd, QemuHost host) {

  static GuestHost in(Path dir, String name) throws Exception {
    Path data = dir.resolve("data");
    Pools pools = Pools.load(data, name);
    Path pool = data.resolve("pools/local");
    pools.define("local", pool.toString(), false);
    TestGuest guest = TestGuest.get();
    Path kernel = Files.copy(guest.kernel(), pool.resolve("vmlinuz"));
    Path initrd = Files.copy(guest.initrd(), pool.resolve("initrd.img"));
    QemuInstallation qemu = QemuInstallation.detect();
    return new GuestHost(data, pools, pool, kernel, initrd,
        new QemuHost(qemu, new AcceleratorProbe(qemu).choose(AccelMode.AUTO).accelerator()));
  }

  /** This host's warm sources over {@code vms}, plain NBD on a free loopback port. */
  WarmSources warmSources(Vms vms, String name) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return new WarmSources(data, vms, name, "127.0.0.1", new PortRange(port, port), StreamTls.OFF, null,
        new ImageHashes(Path.of("/usr/bin/qemu-storage-daemon"), Path.of("/usr/bin/qemu-img")));
  }
}
