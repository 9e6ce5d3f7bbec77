package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.controller.migration.WarmPrediction.Earlier;
import dev.ferry.controller.migration.WarmPrediction.Pass;
import java.util.List;
import org.junit.jupiter.api.Test;

class WarmPredictionTest {

  private static final long MIB = 1 << 20;

  @Test
  void downtime_isShutdownFinalPassHashingAndTheRest() {
    // last passes: 100 MiB in 2 s, 10 MiB in 0.5 s -> 110 MiB / 2.5 s = 44 MiB/s
    var p = new WarmPrediction(22 * MIB, List.of(new Pass(100 * MIB, 2000), new Pass(10 * MIB, 500)),
        new Earlier(3000L, null, null));

    assertThat(p.throughput()).isEqualTo(44.0 * MIB);
    assertThat(p.finalPassMs()).isEqualTo(500);
    assertThat(p.verifyMs()).as("never cut over before: the documented default").isEqualTo(WarmPrediction.DEFAULT_VERIFY_MS);
    assertThat(p.startPartMs()).as("never cut over before: the documented default").isEqualTo(WarmPrediction.START_MS);
    assertThat(p.downtimeMs()).isEqualTo(3000 + 500 + WarmPrediction.DEFAULT_VERIFY_MS + WarmPrediction.START_MS);
  }

  /**
   * The rest after a warm cutover stages the target's QEMU before the power-off, so it holds no
   * QEMU start, which a cold start's rest does: a cold one (even a newer one) never moves the term;
   * the first warm prediction after a cold move took it and was +93 to +131 % long in the copy
   * bench. A cold move's power-off counts: it is the same guest's.
   */
  @Test
  void earlier_onlyWarmRestsCount_aColdOneHoldsAPlainQemuStart() {
    var cold = migration("cold", 120L, null, 400L);
    var warmA = migration("warm", 50L, 15L, 110L);
    var warmB = migration("warm", 60L, 25L, 140L);

    assertThat(Handover.earlier(List.of(cold, warmA, warmB)))
        .as("the newest power-off, the warm rests' and verifications' medians")
        .isEqualTo(new Earlier(120L, 15L, 110L));
    assertThat(Handover.earlier(List.of(cold))).as("the power-off only").isEqualTo(new Earlier(120L, null, null));
    assertThat(Handover.earlier(List.of())).isEqualTo(Earlier.NONE);
  }

  private static dev.ferry.api.MigrationView migration(String kind, Long shutdownMs, Long verifyMs, Long startMs) {
    var r = new MigrationRecord();
    r.kind = kind;
    r.shutdownMs = shutdownMs;
    r.verifyMs = verifyMs;
    r.startMs = startMs;
    return r.view(java.time.Instant.EPOCH);
  }

  @Test
  void measuredTerms_replaceTheDefaults() {
    var p = new WarmPrediction(0, List.of(new Pass(MIB, 250)), new Earlier(480L, 610L, 930L));

    assertThat(p.shutdownPartMs()).isEqualTo(480);
    assertThat(p.verifyMs()).as("this VM's last comparison, not the default").isEqualTo(610);
    assertThat(p.startPartMs()).isEqualTo(930);
    assertThat(p.downtimeMs()).isEqualTo(480 + 250 + 610 + 930);
  }

  @Test
  void aColdShutdownAlone_setsOnlyThePowerOff() {
    var p = new WarmPrediction(0, List.of(new Pass(MIB, 250)), new Earlier(700L, null, null));

    assertThat(p.shutdownPartMs()).isEqualTo(700);
    assertThat(p.verifyMs()).isEqualTo(WarmPrediction.DEFAULT_VERIFY_MS);
    assertThat(p.startPartMs()).isEqualTo(WarmPrediction.START_MS);
  }

  @Test
  void finalPass_neverBelowTheQuickestPass_itsFixedCost() {
    var p = new WarmPrediction(0, List.of(new Pass(64 * MIB, 1000), new Pass(0, 300)), null);

    assertThat(p.finalPassMs()).isEqualTo(300);
    assertThat(p.shutdownPartMs()).as("never shut down before: the documented default")
        .isEqualTo(WarmPrediction.DEFAULT_SHUTDOWN_MS);
  }

  @Test
  void finalPass_manyDirtyBytes_atTheLastPassesPace() {
    // 3 passes of 8 MiB in 400 ms each: 20 MiB/s; 60 MiB dirty -> 3 s
    var p = new WarmPrediction(60 * MIB, List.of(new Pass(8 * MIB, 400), new Pass(8 * MIB, 400),
        new Pass(8 * MIB, 400)), Earlier.NONE);

    assertThat(p.finalPassMs()).isEqualTo(3000);
  }

  @Test
  void throughput_onlyTheLastPassesCount() {
    var p = new WarmPrediction(10 * MIB, List.of(new Pass(1000 * MIB, 1000), new Pass(10 * MIB, 1000),
        new Pass(10 * MIB, 1000), new Pass(10 * MIB, 1000)), new Earlier(1000L, null, null));

    assertThat(p.lastPasses()).hasSize(WarmPrediction.WINDOW);
    assertThat(p.throughput()).isEqualTo(10.0 * MIB);
    assertThat(p.finalPassMs()).isEqualTo(1000);
  }

  @Test
  void beforeAnyPass_theDefaultRate() {
    var p = new WarmPrediction(50 * MIB, List.of(), new Earlier(1000L, null, null));

    assertThat(p.throughput()).isNull();
    assertThat(p.finalPassMs()).isEqualTo(1000);
  }

  @Test
  void earlierCutovers_theMedianOfTheLastThree_notOneSample() {
    assertThat(Handover.median(List.of(373L, 845L, 670L))).isEqualTo(670);
    assertThat(Handover.median(List.of(845L, 373L))).as("the lower middle").isEqualTo(373);
    assertThat(Handover.median(List.of())).isNull();
  }
}
