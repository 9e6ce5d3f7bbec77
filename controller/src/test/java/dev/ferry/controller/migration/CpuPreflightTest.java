package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.api.HostState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.hosts.HostCpuFacts;
import dev.ferry.controller.store.HostRow;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CpuPreflightTest {

  static final List<String> SKYLAKE = List.of("avx", "avx2", "avx512f", "fpu", "sse2");
  static final List<String> HASWELL = List.of("avx", "avx2", "fpu", "sse2");

  static HostRow host(String name, String accel) {
    return new HostRow(name, "https://" + name + ":7101", HostState.ONLINE, Instant.EPOCH, 4, 8L << 30, "7.2.22", accel);
  }

  static Optional<HostCpuFacts> cpu(List<String> flags, String... models) {
    return Optional.of(new HostCpuFacts("probe", flags, List.of(models)));
  }

  @Test
  void check_hostModelToACpuWithoutAFlag_isRefusedNamingTheFlag() {
    assertThatThrownBy(() -> CpuPreflight.check("web", "host", host("a", "kvm"), host("b", "kvm"), cpu(SKYLAKE),
        cpu(HASWELL)))
        .isInstanceOfSatisfying(ControllerException.class, e -> assertThat(e.kind()).isEqualTo(ControllerException.Kind.CONFLICT))
        .hasMessageContaining("host 'b' lacks 1 cpu feature(s) of host 'a' that vm 'web' (cpu model host) may use: avx512f");
  }

  @Test
  void check_hostModelToASupersetCpu_passes() {
    assertThatCode(() -> CpuPreflight.check("web", "host", host("a", "kvm"), host("b", "kvm"), cpu(HASWELL), cpu(SKYLAKE)))
        .doesNotThrowAnyException();
  }

  @Test
  void check_hostModelToATcgHost_isRefused() {
    assertThatThrownBy(() -> CpuPreflight.check("web", "host", host("a", "kvm"), host("b", "tcg"), cpu(HASWELL),
        cpu(SKYLAKE, "qemu64")))
        .hasMessageContaining("host 'b' runs tcg, where that model does not exist");
  }

  @Test
  void check_hostModelWithoutReportedFlags_isRefused() {
    assertThatThrownBy(() -> CpuPreflight.check("web", "host", host("a", "kvm"), host("b", "kvm"), cpu(HASWELL),
        Optional.empty()))
        .hasMessageContaining("host 'b' has not reported its cpu flags");
  }

  /** Under a named baseline the flags of the hosts do not matter: the model's features do. */
  @Test
  void check_baselineTheTargetCannotRun_isRefusedNamingTheModel() {
    assertThatThrownBy(() -> CpuPreflight.check("web", "Skylake-Server", host("a", "kvm"), host("b", "kvm"),
        cpu(SKYLAKE, "Skylake-Server", "Haswell"), cpu(HASWELL, "Haswell", "qemu64")))
        .hasMessageContaining("host 'b' cannot run cpu model 'Skylake-Server' of vm 'web' without dropping features under kvm")
        .hasMessageContaining("Haswell, qemu64");
  }

  @Test
  void check_baselineTheTargetRuns_passesWhateverItsFlags() {
    assertThatCode(() -> CpuPreflight.check("web", "Haswell", host("a", "kvm"), host("b", "kvm"), cpu(SKYLAKE, "Haswell"),
        cpu(List.of("fpu"), "Haswell"))).doesNotThrowAnyException();
  }

  @Test
  void check_qemu64ToAnAgentThatReportedNoModels_passes() {
    assertThatCode(() -> CpuPreflight.check("web", "qemu64", host("a", "tcg"), host("b", "tcg"), Optional.empty(),
        Optional.empty())).doesNotThrowAnyException();
  }
}
