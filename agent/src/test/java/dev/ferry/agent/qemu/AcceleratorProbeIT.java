package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The probe on this machine, with no test guest anywhere in sight (it used to need
 * FERRY_GUEST_DIR to consider KVM at all, so a real host always emulated). Whatever it finds, it
 * says why; on the machines Ferry is developed on KVM is broken or absent, so auto means TCG.
 */
class AcceleratorProbeIT {

  @Test
  void choose_auto_decidesWithoutATestGuestAndSaysWhy() {
    var probe = new AcceleratorProbe(QemuInstallation.detect());

    AcceleratorChoice c = probe.choose(AccelMode.AUTO);

    assertThat(c.probe()).isNotBlank();
    if (AcceleratorProbe.deviceProblem(Path.of("/dev/kvm")).isPresent()) {
      assertThat(c.accelerator()).isEqualTo(Accelerator.TCG);
      assertThat(c.probe()).startsWith("tcg, since kvm does not work here: /dev/kvm");
    }
  }

  @Test
  void choose_kvmWhereKvmIsAbsent_refusesToStartSayingWhy() {
    var probe = new AcceleratorProbe(QemuInstallation.detect());
    if (probe.kvmProblem(true).isEmpty()) return; // a host where kvm works: nothing to refuse

    assertThatThrownBy(() -> probe.choose(AccelMode.KVM)).isInstanceOf(AgentException.class)
        .hasMessageStartingWith("--accel kvm, but kvm does not work on this host: ");
  }

  @Test
  void usableModels_underTcg_includeQemu64AndNotHost() {
    var cpu = HostCpu.detect(QemuInstallation.detect(), Accelerator.TCG);

    assertThat(cpu.usableModels()).contains("qemu64", "max").doesNotContain("host");
    assertThat(cpu.flags()).contains("fpu", "sse2");
  }
}
