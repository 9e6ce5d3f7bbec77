package dev.ferry.cli.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.cli.Samples;
import org.junit.jupiter.api.Test;

class VmShowTest {

  /** "256.0 MiB given" read as no adjustment at all when QEMU really got 8 KiB less. */
  @Test
  void vmShow_memoryAdjustedByKib_showsTheExactSize() {
    var vm = Samples.vm("web");
    var adjusted = new dev.ferry.api.VmView(vm.name(), vm.host(), vm.state(), vm.cpus(), 256L << 20, (256L << 20) - 8192,
        "tcg dirty-page bug", vm.machineType(), vm.cpuModel(), vm.accelerator(), vm.pid(), vm.disks());

    assertThat(VmShow.memory(adjusted)).isEqualTo("256 MiB requested, 262136 KiB given to qemu");
  }
}
