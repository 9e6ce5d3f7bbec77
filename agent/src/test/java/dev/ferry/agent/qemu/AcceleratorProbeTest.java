package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AcceleratorProbeTest {

  static final String MSR = "qemu -accel kvm -cpu host exited (1): error: failed to set MSR 0x10a to 0x0";

  @Test
  void decide_autoAndKvmWorks_choosesKvm() {
    AcceleratorChoice c = AcceleratorProbe.decide(AccelMode.AUTO, Optional::empty);

    assertThat(c.accelerator()).isEqualTo(Accelerator.KVM);
    assertThat(c.defaultCpuModel()).isEqualTo("host");
  }

  /** These machines: /dev/kvm may be there, yet a guest dies under it; auto must emulate, and say why. */
  @Test
  void decide_autoAndKvmBroken_fallsBackToTcgNamingTheProblem() {
    AcceleratorChoice c = AcceleratorProbe.decide(AccelMode.AUTO, () -> Optional.of(MSR));

    assertThat(c.accelerator()).isEqualTo(Accelerator.TCG);
    assertThat(c.probe()).isEqualTo("tcg, since kvm does not work here: " + MSR);
    assertThat(c.defaultCpuModel()).isEqualTo("qemu64");
  }

  @Test
  void decide_kvmRequiredButBroken_refusesToStart() {
    assertThatThrownBy(() -> AcceleratorProbe.decide(AccelMode.KVM, () -> Optional.of(MSR)))
        .isInstanceOf(AgentException.class)
        .hasMessage("--accel kvm, but kvm does not work on this host: " + MSR + " (--accel auto falls back to tcg)");
  }

  @Test
  void decide_kvmRequiredAndWorks_choosesKvm() {
    assertThat(AcceleratorProbe.decide(AccelMode.KVM, Optional::empty).accelerator()).isEqualTo(Accelerator.KVM);
  }

  @Test
  void decide_tcg_neverProbes() {
    var asked = new AtomicInteger();
    Supplier<Optional<String>> probe = () -> {
      asked.incrementAndGet();
      return Optional.empty();
    };

    AcceleratorChoice c = AcceleratorProbe.decide(AccelMode.TCG, probe);

    assertThat(c.accelerator()).isEqualTo(Accelerator.TCG);
    assertThat(asked).hasValue(0);
  }

  @Test
  void deviceProblem_missingDevice_namesIt(@TempDir Path tmp) {
    assertThat(AcceleratorProbe.deviceProblem(tmp.resolve("kvm"))).get().asString().startsWith(tmp.resolve("kvm") + " does not exist");
  }

  @Test
  void deviceProblem_readOnlyDevice_namesIt(@TempDir Path tmp) throws Exception {
    Path dev = Files.writeString(tmp.resolve("kvm"), "");
    dev.toFile().setWritable(false);
    if (Files.isWritable(dev)) return; // root writes anyway: nothing to show

    assertThat(AcceleratorProbe.deviceProblem(dev)).get().asString().contains("cannot be opened read-write");
  }

  @Test
  void parse_unknownMode_namesTheChoices() {
    assertThatThrownBy(() -> AccelMode.parse("hvf")).hasMessage("--accel 'hvf' is not one of auto, kvm, tcg");
    assertThat(AccelMode.parse("KVM")).isEqualTo(AccelMode.KVM);
  }

  @Test
  void parseFlags_firstProcessor_sortedAndDistinct() {
    String cpuinfo = "processor\t: 0\nflags\t\t: sse2 fpu avx sse2\n\nprocessor\t: 1\nflags\t\t: fpu\n";

    assertThat(HostCpu.parseFlags(cpuinfo)).containsExactly("avx", "fpu", "sse2");
  }

  @Test
  void parseUsable_keepsModelsWithoutUnavailableFeatures() {
    String out = """
        {"QMP": {"version": {}}}
        {"return": {}}
        {"return": [{"name": "qemu64", "unavailable-features": []}, {"name": "host", "unavailable-features": ["kvm"]},
        {"name": "EPYC", "unavailable-features": ["sha-ni"]}, {"name": "max", "unavailable-features": []}]}
        """.replace("\n{\"name\": \"EPYC\"", " {\"name\": \"EPYC\"");

    assertThat(HostCpu.parseUsable(out)).containsExactly("max", "qemu64");
  }
}
