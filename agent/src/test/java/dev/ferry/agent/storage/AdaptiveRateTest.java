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
  void aGuestThatWroteBeforeTheMirror_isApproachedFromBelow_oneThatDidNotGetsTheCeiling() {
    assertThat(law.start()).isEqualTo(64 * MIB);
    var idle = new AdaptiveRate(0, 16 * MIB, 2048 * MIB);
    assertThat(idle.start()).isEqualTo(2048 * MIB);
    assertThat(idle.qemuSpeed(idle.start())).as("QEMU's 'no limit'").isZero();
  }

  @Test
  void latencyOverTheCutLine_cutsTheSpeed_inProportion_atMostByHalf() {
    long speed = 400 * MIB;
    // 2.5x: aim at 0.8 of the 2x goal
    assertThat(law.next(speed, writes(30, 2.5), -1)).isEqualTo((long) (speed * 0.64));
    assertThat(law.next(speed, writes(30, 10), -1)).isEqualTo(speed / 2);
  }

  @Test
  void aLimitFarOverWhatTheJobCopied_isCutFromWhatItCopied() {
    // uncapped in name, 390 MiB/s in fact: halving the name would change nothing for a step
    assertThat(law.next(2048 * MIB, writes(30, 17), 390 * MIB)).isEqualTo(195 * MIB);
  }

  @Test
  void latencyThatStaysHigh_holdsTheMirrorAtTheFloor_neverBelow() {
    long speed = 2048 * MIB;
    for (int i = 0; i < 20; i++) {
      speed = law.next(speed, writes(30, 8), -1);
      assertThat(speed).as("step %d", i).isGreaterThanOrEqualTo(16 * MIB);
    }
    assertThat(speed).isEqualTo(16 * MIB);
    assertThat(law.qemuSpeed(speed)).isEqualTo(16 * MIB);
  }

  @Test
  void latencyBetweenTheRaiseAndTheCutLine_holds() {
    assertThat(law.next(300 * MIB, writes(30, 1.6), 290 * MIB)).isEqualTo(300 * MIB);
    assertThat(law.next(300 * MIB, writes(30, 1.8), 290 * MIB)).as("exactly the cut line holds").isEqualTo(300 * MIB);
  }

  @Test
  void latencyNearTheBaseline_raisesByAQuarter_onlyALimitTheJobReached() {
    assertThat(law.next(100 * MIB, writes(30, 1.1), 95 * MIB)).isEqualTo(125 * MIB);
    assertThat(law.next(100 * MIB, writes(30, 1.1), -1)).as("copy rate unknown").isEqualTo(125 * MIB);
    assertThat(law.next(100 * MIB, writes(30, 1.1), 50 * MIB)).as("the disks, not the limit, held the job")
        .isEqualTo(100 * MIB);
    assertThat(law.next(1900 * MIB, writes(30, 1.1), 1900 * MIB)).isEqualTo(2048 * MIB);
  }

  @Test
  void tooFewWrites_measureNothing_andAQuietGuestGetsTheFullSpeedBack() {
    // three slow writes are not evidence: the guest is hardly writing, so there is nothing to protect
    long speed = law.next(16 * MIB, writes(3, 50), 16 * MIB);
    assertThat(law.qemuSpeed(speed)).isZero();
    assertThat(law.qemuSpeed(law.next(16 * MIB, new Sample(0, 0), 16 * MIB))).isZero();
  }

  @Test
  void unknownBaseline_noGoal_runsAtTheCeiling() {
    var blind = new AdaptiveRate(0, 16 * MIB, 2048 * MIB);
    assertThat(blind.next(blind.start(), writes(30, 100), -1)).isEqualTo(2048 * MIB);
  }

  /**
   * Closed loop against the guest the storage bench measured (docs/bench/storage.md): the mirror
   * tops out at 390 MiB/s, where the guest's writes take 17x their baseline, 1.9x at 100 MiB/s;
   * modelled as {@code 1 + 16 (t / 390)^2}. Settled, the guest stays within 2x on nearly every
   * step, and a 1 GiB disk is copied at several times the floor.
   */
  @Test
  void closedLoop_steepGuest_staysWithinTwiceItsBaseline_andTheMirrorConverges() {
    var run = closedLoop(1024 * MIB, 390 * MIB, t -> 1 + 16 * Math.pow(t / (390.0 * MIB), 2));
    assertThat(run.shareWithinGoal()).as("share of steps within 2x").isGreaterThanOrEqualTo(0.9);
    assertThat(run.meanMibPerS()).as("mean MiB/s, vs the 16 MiB/s floor").isGreaterThan(60);
  }

  /**
   * Closed loop against a guest that barely minds (x4 at a 1500 MiB/s top speed, as measured once
   * without a cap in docs/bench/storage-tuning.md): the law climbs to where the goal allows.
   */
  @Test
  void closedLoop_gentleGuest_climbsFar_andStaysWithinTheGoal() {
    var run = closedLoop(2048 * MIB, 1500 * MIB, t -> 1 + 3 * t / (1500.0 * MIB));
    assertThat(run.shareWithinGoal()).as("share of steps within 2x").isGreaterThanOrEqualTo(0.9);
    assertThat(run.meanMibPerS()).as("mean MiB/s, vs the 16 MiB/s floor").isGreaterThan(200);
  }

  record Run(List<Double> ratios, int steps, long bytes) {
    double shareWithinGoal() {
      return (double) ratios.stream().filter(r -> r <= AdaptiveRate.TARGET).count() / ratios.size();
    }

    double meanMibPerS() {
      return bytes / (double) MIB / (steps * 0.5);
    }
  }

  /** Steps of 0.5 s, as RateLoop, until {@code bytes} are copied; the guest's ratio follows the copy rate. */
  private Run closedLoop(long bytes, long top, java.util.function.DoubleUnaryOperator ratioAt) {
    long remaining = bytes;
    long speed = law.start();
    List<Double> ratios = new ArrayList<>();
    int steps = 0;
    while (remaining > 0) {
      long throughput = Math.min(speed, top);
      double ratio = ratioAt.applyAsDouble(throughput);
      ratios.add(ratio);
      remaining -= throughput / 2;
      speed = law.next(speed, writes(32, ratio), throughput);
      steps++;
      assertThat(steps).as("converged within 2 min").isLessThan(240);
    }
    return new Run(ratios, steps, bytes);
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
