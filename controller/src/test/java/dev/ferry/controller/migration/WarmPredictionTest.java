package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class WarmPredictionTest {

  private static final long MIB = 1 << 20;

  @Test
  void downtime_isShutdownFinalPassHashingAndStart() {
    // last passes: 100 MiB in 2 s, 10 MiB in 0.5 s -> 110 MiB / 2.5 s = 44 MiB/s
    var p = new WarmPrediction(22 * MIB, List.of(new WarmPrediction.Pass(100 * MIB, 2000),
        new WarmPrediction.Pass(10 * MIB, 500)), 3000L, 512 * MIB);

    assertThat(p.throughput()).isEqualTo(44.0 * MIB);
    assertThat(p.finalPassMs()).isEqualTo(500);
    assertThat(p.verifyMs()).isEqualTo(4000);
    assertThat(p.downtimeMs()).isEqualTo(3000 + 500 + 4000 + WarmPrediction.START_MS);
  }

  @Test
  void finalPass_neverBelowTheQuickestPass_itsFixedCost() {
    var p = new WarmPrediction(0, List.of(new WarmPrediction.Pass(64 * MIB, 1000), new WarmPrediction.Pass(0, 300)),
        null, 0);

    assertThat(p.finalPassMs()).isEqualTo(300);
    assertThat(p.shutdownPartMs()).as("never shut down before: the documented default")
        .isEqualTo(WarmPrediction.DEFAULT_SHUTDOWN_MS);
  }

  @Test
  void throughput_onlyTheLastPassesCount() {
    var p = new WarmPrediction(10 * MIB, List.of(new WarmPrediction.Pass(1000 * MIB, 1000),
        new WarmPrediction.Pass(10 * MIB, 1000), new WarmPrediction.Pass(10 * MIB, 1000),
        new WarmPrediction.Pass(10 * MIB, 1000)), 1000L, 0);

    assertThat(p.lastPasses()).hasSize(WarmPrediction.WINDOW);
    assertThat(p.throughput()).isEqualTo(10.0 * MIB);
    assertThat(p.finalPassMs()).isEqualTo(1000);
  }

  @Test
  void beforeAnyPass_theDefaultRate() {
    var p = new WarmPrediction(50 * MIB, List.of(), 1000L, 0);

    assertThat(p.throughput()).isNull();
    assertThat(p.finalPassMs()).isEqualTo(1000);
  }
}
