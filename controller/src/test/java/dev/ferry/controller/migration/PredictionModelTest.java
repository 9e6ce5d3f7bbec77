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
        autoConverge, null, null, null, null, null), false);
  }

  private static PredictionModel.Result predict(double guestMib, double dirtyMibS, double linkMibS, LiveOptions o) {
    return PredictionModel.predict(new PredictionModel.Inputs((long) (guestMib * MIB), (long) (guestMib * MIB), dirtyMibS * MIB,
        linkMibS * MIB, o));
  }

  @Test
  void converging_isTheGeometricSeries_untilTheRemainderFitsTheLimitQemuStartsWith() {
    // 1 GiB at 100 MiB/s, 10 MiB/s dirtied: pass 1 10.24 s leaves 102.4 MiB (1.024 s), pass 2
    // 1.024 s leaves 10.24 MiB (102.4 ms: within the 300 ms allowed, but not within the 50 ms
    // QEMU starts with, and not a plateau), pass 3 leaves 1.024 MiB, sent in 10.24 ms: the switchover
    PredictionModel.Result r = predict(1024, 10, 100, options(null, null, null, false));
    assertThat(r.converges()).isTrue();
    assertThat(r.passes()).isEqualTo(3);
    assertThat(r.downtimeMs()).isEqualTo(10);
    assertThat(r.totalMs()).isEqualTo(11_377); // 10 240 + 1 024 + 102.4 + 10.24
    assertThat(r.outcome()).isEqualTo("pre-copy");
    assertThat(r.explanation()).contains("downtime limit 50 ms, of the 300 ms allowed");
  }

  /**
   * The bench's mem-64 cell (issue 14): a 256 MiB guest dirtying 64 MiB/s over a 145.6 MiB/s
   * link. The old model let QEMU switch with the whole 300 ms allowance and predicted 224 ms of
   * downtime where the runs paused 7–9 ms; under the 50 ms QEMU starts with it takes 5 passes.
   */
  @Test
  void theLowStart_takesThePassesThatBringTheRemainderUnderIt() {
    // rho = 64 / 145.6: remainders 112.5, 49.5, 21.7, 9.6, 4.2 MiB; 4.2 MiB = 28.9 ms <= 50 ms after
    // pass 5, where 21.7 MiB (149 ms, after pass 3) would have fitted 300 ms
    PredictionModel.Result r = predict(256, 64, 145.6, options(null, null, null, false));
    assertThat(r.passes()).isEqualTo(5);
    assertThat(r.downtimeMs()).isEqualTo(29);
    assertThat(r.totalMs()).isEqualTo(3_115);
  }

  @Test
  void aPlateau_raisesTheLimitToWhatTheRemainderNeeds_andQemuSwitchesThere() {
    // 32 MiB at 100 MiB/s, 85 MiB/s dirtied: pass 1 (320 ms) leaves 27.2 MiB (272 ms > 50), pass 2
    // (272 ms) leaves 23.12 MiB, 85 % of 27.2 (a plateau): the limit goes to 231 x 5/4 + 5 = 293 ms
    // and the 231.2 ms remainder fits it: total 320 + 272 + 231.2 ms
    PredictionModel.Result r = predict(32, 85, 100, options(null, null, null, false));
    assertThat(r.converges()).isTrue();
    assertThat(r.passes()).isEqualTo(2);
    assertThat(r.downtimeMs()).isEqualTo(231);
    assertThat(r.totalMs()).isEqualTo(823);
    assertThat(r.explanation()).contains("the limit raised to 293 ms after pass 2 left 85 % of the one before");
  }

  @Test
  void aPlateauAboveTheAllowance_raisesToTheAllowanceOnly_andPassesGoOn() {
    // 100 MiB at 100 MiB/s, 90 MiB/s: pass 2 leaves 81 MiB (810 ms): the limit goes to 300 ms, and
    // remainders of 0.9^k x 100 MiB fit it after pass 12 (28.2 MiB, 282 ms)
    PredictionModel.Result r = predict(100, 90, 100, options(null, null, null, false));
    assertThat(r.converges()).isTrue();
    assertThat(r.passes()).isEqualTo(12);
    assertThat(r.downtimeMs()).isEqualTo(282);
    assertThat(r.totalMs()).isEqualTo(7_458);
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
    assertThat(capped.totalMs()).isEqualTo(11_377);
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
  void theFirstPass_visitsTheWholeRamAtTheLink_andNeedsTheCapOnlyForTheResidentPart() {
    // 256 MiB of which 64 MiB resident, idle: the link is RAM gone through per second, zero pages
    // included, so 256 MiB at 100 MiB/s is 2.56 s whatever is resident
    PredictionModel.Result uncapped = PredictionModel.predict(new PredictionModel.Inputs((long) (256 * MIB), (long) (64 * MIB), 0,
        100 * MIB, options(null, null, "never", false)));
    assertThat(uncapped.outcome()).isEqualTo("pre-copy");
    assertThat(uncapped.totalMs()).isEqualTo(2_560);
    // a cap of 16 MiB/s holds only the pages sent in full: 64 MiB / 16 MiB/s = 4 s, not 256 / 16 = 16 s
    PredictionModel.Result capped = PredictionModel.predict(new PredictionModel.Inputs((long) (256 * MIB), (long) (64 * MIB), 0,
        100 * MIB, options(null, 16.0, "never", false)));
    assertThat(capped.totalMs()).isEqualTo(4_000);
  }

  @Test
  void postcopyAuto_aGuestThatBarelyLetsPreCopyShrink_switchesAPassAfterTheAllowanceIsInForce() {
    // 256 MiB dirtied at 113 MiB/s over a 119 MiB/s stream (the live bench's noconv): each pass leaves ~95 %
    // of the one before; pass 2 raises the limit to the 300 ms allowance, pass 3 shows it is hopeless
    PredictionModel.Result r = predict(256, 113, 119, options(null, null, "auto", false));
    assertThat(r.outcome()).isEqualTo("post-copy");
    assertThat(r.passes()).isEqualTo(3);
    assertThat(r.explanation()).contains("more than 3 more passes after pass 3");
    PredictionModel.Result never = predict(256, 113, 119, options(null, null, "never", false));
    assertThat(never.passes()).as("the stall watch alone").isGreaterThan(3);
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
