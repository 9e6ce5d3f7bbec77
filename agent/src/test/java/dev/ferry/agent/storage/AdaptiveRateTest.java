package dev.ferry.agent.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.storage.AdaptiveRate.Sample;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The adaptive rate's control law against scripted guest write latencies. */
class AdaptiveRateTest {

  static final long MIB = 1L << 20;
  static final long BASE_NS = 1_000_000; // 1 ms per write before the mirror
  final AdaptiveRate law = new AdaptiveRate(BASE_NS, 16 * MIB, 2048 * MIB);

  /** {@code writes} writes of {@code ratio} times the baseline each. */
  static Sample writes(long writes, double ratio) {
    return new Sample(writes, (long) (writes * BASE_NS * ratio));
  }

  @Test
  void startsUncapped_soAnIdleGuestsMirrorRunsAtFullSpeed() {
    assertThat(law.start()).isEqualTo(2048 * MIB);
    assertThat(law.qemuSpeed(law.start())).as("QEMU's 'no limit'").isZero();
  }

  @Test
  void latencyOverTwiceTheBaseline_cutsTheSpeed_inProportion_atMostByHalf() {
    long speed = 1000 * MIB;
    // 2.5x: cut to 2/2.5 * 0.9 = 72 %
    assertThat(law.next(speed, writes(30, 2.5))).isEqualTo((long) (speed * 0.72));
    // 10x: proportionally 18 %, but never more than halved in one step
    assertThat(law.next(speed, writes(30, 10))).isEqualTo(speed / 2);
  }

  @Test
  void latencyThatStaysHigh_holdsTheMirrorAtTheFloor_neverBelow() {
    long speed = law.start();
    for (int i = 0; i < 40; i++) {
      speed = law.next(speed, writes(30, 8));
      assertThat(speed).as("step %d", i).isGreaterThanOrEqualTo(16 * MIB);
    }
    assertThat(speed).isEqualTo(16 * MIB);
    assertThat(law.qemuSpeed(speed)).isEqualTo(16 * MIB);
  }

  @Test
  void latencyBetweenOneAndAHalfAndTwiceTheBaseline_holds() {
    assertThat(law.next(300 * MIB, writes(30, 1.8))).isEqualTo(300 * MIB);
    assertThat(law.next(300 * MIB, writes(30, 2.0))).as("exactly the goal is within it").isEqualTo(300 * MIB);
  }

  @Test
  void latencyNearTheBaseline_raisesByAQuarterOfTheCeiling_upToTheCeiling() {
    assertThat(law.next(100 * MIB, writes(30, 1.1))).isEqualTo(612 * MIB);
    assertThat(law.next(1900 * MIB, writes(30, 1.1))).isEqualTo(2048 * MIB);
  }

  @Test
  void tooFewWrites_measureNothing_andAQuietGuestGetsTheFullSpeedBack() {
    long speed = 16 * MIB;
    // three slow writes are not evidence: the guest is hardly writing, so there is nothing to protect
    speed = law.next(speed, writes(3, 50));
    assertThat(speed).isGreaterThan(16 * MIB);
    for (int i = 0; i < 4; i++) speed = law.next(speed, new Sample(0, 0));
    assertThat(law.qemuSpeed(speed)).isZero();
  }

  @Test
  void unknownBaseline_noGoal_runsAtTheCeiling() {
    var blind = new AdaptiveRate(0, 16 * MIB, 2048 * MIB);
    assertThat(blind.next(blind.start(), writes(30, 100))).isEqualTo(2048 * MIB);
  }

  /**
   * Closed loop against a guest whose latency grows with the mirror's speed (x4 uncapped, as
   * measured without a cap in docs/bench/storage-tuning.md): after settling the guest stays within
   * 2x on most steps, the mirror averages far above its floor, and a 2 GiB disk is copied.
   */
  @Test
  void closedLoop_keepsTheGuestWithinTwiceItsBaseline_andTheMirrorConverges() {
    long remaining = 2048 * MIB;
    long speed = law.start();
    double step = 0.5; // seconds, as RateLoop
    List<Double> ratios = new ArrayList<>();
    int steps = 0;
    while (remaining > 0) {
      double throughput = Math.min(speed, 1500 * MIB); // QEMU's own top speed here
      double ratio = 1 + 3 * throughput / (1500.0 * MIB);
      ratios.add(ratio);
      remaining -= (long) (throughput * step);
      speed = law.next(speed, writes(32, ratio));
      steps++;
      assertThat(steps).as("converged within 2 min").isLessThan(240);
    }
    List<Double> settled = ratios.subList(Math.min(4, ratios.size()), ratios.size());
    long within = settled.stream().filter(r -> r <= AdaptiveRate.TARGET).count();
    assertThat((double) within / settled.size()).as("share of settled steps within 2x").isGreaterThanOrEqualTo(0.7);
    double meanSpeedMib = 2048.0 / (steps * step);
    assertThat(meanSpeedMib).as("mean MiB/s, vs the 16 MiB/s floor").isGreaterThan(200);
  }

  @Test
  void counterReadings_fromAnotherQemu_areNoEvidence() {
    assertThat(Sample.between(100, 5_000, 164, 9_000)).isEqualTo(new Sample(64, 4_000));
    assertThat(Sample.between(100, 5_000, 3, 100)).isEqualTo(new Sample(0, 0));
  }

  @Test
  void refusesAFloorOfZero_whichCouldStopTheMirror() {
    assertThatThrownBy(() -> new AdaptiveRate(BASE_NS, 0, MIB)).hasMessageContaining("floor must be positive: 0");
  }
}
