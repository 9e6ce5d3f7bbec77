package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.api.agent.AgentVmDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An FT-ready VM's machine type (docs/ft.md): i440fx by default, and a q35 type refused naming the
 * field, because the COLO secondary aborts at its first checkpoint load with q35.
 */
class VmDefinitionsFtTest {

  static final QemuInstallation QEMU = new QemuInstallation(Path.of("/bin/false"), Path.of("/usr/bin/qemu-img"),
      new QemuVersion(7, 2, 0), List.of(
          "pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)",
          "pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)",
          "q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
          "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)"));

  @TempDir Path tmp;
  Pools pools;
  String kernel;

  @BeforeEach
  void pool() throws Exception {
    pools = Pools.load(tmp, "h1");
    Path dir = Files.createDirectories(tmp.resolve("local"));
    pools.define("local", dir.toString(), false);
    kernel = Files.writeString(dir.resolve("vmlinuz"), "k").toString();
  }

  private AgentVmDefinition def(String machine, Boolean ft) {
    return new AgentVmDefinition("web", 1, 64L << 20, machine, null, kernel, null, null, List.of(), null, ft);
  }

  @Test
  void toSpec_ftReadyWithoutMachineType_isI440fx_plainStaysQ35() {
    assertThat(VmDefinitions.toSpec("web", def(null, true), pools, QEMU).machineType()).isEqualTo("pc-i440fx-7.2");
    assertThat(VmDefinitions.toSpec("web", def(null, null), pools, QEMU).machineType()).isEqualTo("pc-q35-7.2");
  }

  @Test
  void toSpec_ftReadyOnQ35_isRefusedNamingMachineType() {
    assertThatThrownBy(() -> VmDefinitions.toSpec("web", def("q35", true), pools, QEMU))
        .isInstanceOf(AgentException.class).hasMessageContaining("machine_type").hasMessageContaining("i440fx");
    assertThat(VmDefinitions.toSpec("web", def("q35", false), pools, QEMU).machineType()).isEqualTo("pc-q35-7.2");
  }
}
