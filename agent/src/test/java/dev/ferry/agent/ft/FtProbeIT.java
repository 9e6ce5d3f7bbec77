package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.api.FtBinaryView;
import dev.ferry.api.FtView;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The COLO probe against real QEMU under TCG: Ferry's build (ft-qemu/build-qemu.sh, handed in as
 * FERRY_FT_QEMU by {@code ./ferry test-ft}) passes; Debian's stock 7.2 deadlocks its primary at a
 * checkpoint and is reported unsupported with that reason, within the probe's bounds. Skipped
 * without FERRY_FT_QEMU: {@code ./ferry test} does not build QEMU (about 3 minutes on 2 cores).
 */
class FtProbeIT {

  @TempDir
  Path data;

  @Test
  void probe_ferryBuildAndStockQemu_buildSupportedStockUnsupportedWithTheDeadlock() throws Exception {
    String built = System.getenv("FERRY_FT_QEMU");
    assumeTrue(built != null && !built.isBlank(), "FERRY_FT_QEMU not set: run ./ferry test-ft to build Ferry's QEMU");
    Path ferryQemu = Path.of(built);
    assertThat(ferryQemu).isExecutable();
    Path stock = QemuInstallation.detect().systemBinary();

    long t0 = System.nanoTime();
    try (FtProbes probes = new FtProbes(List.of(ferryQemu, stock), data.resolve("cache"), "tcg",
        new QemuColoSelfTest(Accelerator.TCG, QemuUser.current()), FtProbes.BUDGET, FtProbes.HARD_TIMEOUT,
        InstantSource.system()).start()) {
      assertThat(probes.awaitProbes(Duration.ofSeconds(80))).isTrue();
      FtView v = probes.view();
      System.out.printf("ft probes in %d ms: %s%n", Duration.ofNanos(System.nanoTime() - t0).toMillis(), v);

      FtBinaryView ours = v.binaries().get(0);
      assertThat(ours.binary()).isEqualTo(ferryQemu.toString());
      assertThat(ours.state()).as(ours.reason()).isEqualTo(FtBinaryView.SUPPORTED);
      assertThat(ours.checkpoints()).isGreaterThanOrEqualTo(QemuColoSelfTest.CHECKPOINTS);

      FtBinaryView theirs = v.binaries().get(1);
      assertThat(theirs.binary()).isEqualTo(stock.toString());
      assertThat(theirs.state()).as(theirs.reason()).isEqualTo(FtBinaryView.UNSUPPORTED);
      assertThat(theirs.reason()).contains("stopped answering QMP").contains("checkpoint deadlock");
      assertThat(theirs.checkpoints()).isLessThan(QemuColoSelfTest.CHECKPOINTS);

      assertThat(v.supported()).isTrue();
      assertThat(v.binary()).isEqualTo(ferryQemu.toString());
      // both findings cached: the agent's next start runs no QEMU
      try (var cached = Files.list(data.resolve("cache"))) {
        assertThat(cached.toList()).hasSize(2);
      }
    }
  }
}
