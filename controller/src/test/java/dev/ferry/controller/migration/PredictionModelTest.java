package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.LiveMigrationRequest;
import org.junit.jupiter.api.Test;

/**
 * The pre-copy model, with numbers worked out by hand: a geometric series while the guest dirties
 * less than the link carries, Ferry's policy once it does not.
 */
class PredictionModelTest {

  private static final double MIB = 1 << 20;

  private static LiveOptions options(Long downtimeMs, Double bandwidthMibS, String postcopy, boolean autoConverge) {
    return LiveOptions.validate(new LiveMigrationRequest("web", "host2", downtimeMs, bandwidthMibS, postcopy,
        autoConverge, null, null, null, null, null));
  }

  private static PredictionModel.Result predict(double guestMib, double dirtyMibS, double linkMibS, LiveOptions o) {
    return PredictionModel.predict(new PredictionModel.Inputs((long) (guestMib * MIB), dirtyMibS * MIB,
        linkMibS * MIB, o));
  }

  @Test
  void converging_isTheGeometricSeries_untilTheRemainderFitsTheLimit() {
    // 1 GiB at 100 MiB/s, 10 MiB/s dirtied: pass 1 10.24 s leaves 102.4 MiB (1.024 s > 300 ms),
    // pass 2 1.024 s leaves 10.24 MiB, sent in 102.4 ms <= 300 ms: the switchover
    PredictionModel.Result r = predict(1024, 10, 100, options(null, null, null, false));
    assertThat(r.converges()).isTrue();
    assertThat(r.passes()).isEqualTo(2);
    assertThat(r.downtimeMs()).isEqualTo(102);
    assertThat(r.totalMs()).isEqualTo(11_366); // 10 240 + 1 024 + 102.4
    assertThat(r.outcome()).isEqualTo("pre-copy");
  }

  @Test
  void aLowerDowntimeLimit_takesMorePasses() {
    // the same guest with a 5 ms limit: pass 3 (102.4 ms) leaves 1.024 MiB = 10.24 ms, pass 4 leaves 0.1 MiB = 1 ms
    PredictionModel.Result r = predict(1024, 10, 100, options(5L, null, null, false));
    assertThat(r.passes()).isEqualTo(4);
    assertThat(r.downtimeMs()).isEqualTo(1);
    assertThat(r.totalMs()).isEqualTo(11_378); // 10 240 + 1 024 + 102.4 + 10.24 + 1.024
  }

  @Test
  void theUsersCap_belowTheLink_isTheBandwidth() {
    PredictionModel.Result capped = predict(1024, 10, 1000, options(null, 100.0, null, false));
    assertThat(capped.bandwidthBytesPerS()).isEqualTo(100 * MIB);
    assertThat(capped.totalMs()).isEqualTo(11_366);
    PredictionModel.Result uncapped = predict(1024, 10, 1000, options(null, null, null, false));
    assertThat(uncapped.bandwidthBytesPerS()).isEqualTo(1000 * MIB);
    // 1.024 s leaves 10.24 MiB, 10.24 ms to send
    assertThat(uncapped.totalMs()).isEqualTo(1_034);
    assertThat(uncapped.downtimeMs()).isEqualTo(10);
    assertThat(uncapped.passes()).isEqualTo(1);
  }

  @Test
  void autoConverge_throttlesEverySecondHotPass_andConvergesSooner() {
    // 100 MiB at 100 MiB/s, 80 MiB/s dirtied. Plain: remainders 80, 64, 51.2, 41, 32.8, 26.2 MiB,
    // the 6th fits 300 ms: total (1 - 0.8^6) / 0.2 s + 262 ms = 3 951 ms
    PredictionModel.Result plain = predict(100, 80, 100, options(null, null, null, false));
    assertThat(plain.passes()).isEqualTo(6);
    assertThat(plain.totalMs()).isEqualTo(3_951);
    assertThat(plain.downtimeMs()).isEqualTo(262);
    // auto-converge: passes 1 and 2 dirty more than half of what they sent, so from pass 3 the guest
    // runs at 80 %: 1 + 0.8 + 0.64 + 0.4096 s, leaving 0.4096 s x 64 MiB/s = 26.2 MiB after pass 4
    PredictionModel.Result throttled = predict(100, 80, 100, options(null, null, null, true));
    assertThat(throttled.passes()).isEqualTo(4);
    assertThat(throttled.totalMs()).isEqualTo(3_112);
    assertThat(throttled.downtimeMs()).isEqualTo(262);
    assertThat(throttled.outcome()).isEqualTo("auto-converge");
    assertThat(throttled.converges()).isTrue();
  }

  @Test
  void aGuestFasterThanTheLink_neverConverges_andFerryCancelsAfterTheStall() {
    // 1 GiB at 100 MiB/s, 200 MiB/s dirtied: every pass resends all RAM (10.24 s); no fall for
    // 10 s (STALL_TIME) after pass 1, so pass 2 ends it at 20.48 s
    PredictionModel.Result r = predict(1024, 200, 100, options(null, null, null, false));
    assertThat(r.converges()).isFalse();
    assertThat(r.outcome()).isEqualTo("cancelled");
    assertThat(r.totalMs()).isEqualTo(20_480);
    assertThat(r.downtimeMs()).isNull();
    assertThat(r.explanation()).contains("--auto-converge or --postcopy auto would let it finish");
  }

  @Test
  void postcopyAuto_takesOverWherePreCopyStalls() {
    // as above, then the last 1 GiB follows the switch: 20.48 + 10.24 s
    PredictionModel.Result r = predict(1024, 200, 100, options(null, null, "auto", false));
    assertThat(r.outcome()).isEqualTo("post-copy");
    assertThat(r.converges()).isFalse();
    assertThat(r.totalMs()).isEqualTo(30_720);
    assertThat(r.passes()).isEqualTo(2);
  }

  @Test
  void postcopyAlways_switchesAfterTheFirstPass_unlessItAlreadyFits() {
    // 1 GiB at 100 MiB/s, 10 MiB/s: pass 1 leaves 102.4 MiB (> 300 ms): post-copy pulls it, 10.24 + 1.024 s
    PredictionModel.Result r = predict(1024, 10, 100, options(null, null, "always", false));
    assertThat(r.outcome()).isEqualTo("post-copy");
    assertThat(r.totalMs()).isEqualTo(11_264);
    assertThat(r.passes()).isEqualTo(1);
    // an idle guest switches over in pre-copy before post-copy is needed
    PredictionModel.Result idle = predict(1024, 0, 100, options(null, null, "always", false));
    assertThat(idle.outcome()).isEqualTo("pre-copy");
    assertThat(idle.totalMs()).isEqualTo(10_240);
    assertThat(idle.downtimeMs()).isZero();
  }

  @Test
  void aHotGuestWithAutoConverge_isThrottledUntilItFits() {
    // 200 MiB/s against 100 MiB/s: only the throttle brings it down; it must converge, throttled
    PredictionModel.Result r = predict(1024, 200, 100, options(null, null, null, true));
    assertThat(r.converges()).isTrue();
    assertThat(r.outcome()).isEqualTo("auto-converge");
    assertThat(r.downtimeMs()).isLessThanOrEqualTo(300);
    // without throttling a pass never leaves less than all RAM: more than pass 1's 10.24 s plus one
    assertThat(r.totalMs()).isGreaterThan(20_480);
  }
}
