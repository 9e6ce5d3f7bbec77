package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ColoCheckpointsTest {

  private static final Instant T = Instant.parse("2026-12-05T12:00:00Z");

  @Test
  void summary_stopResumePairs_countMedianMaxAndLast() {
    var c = new ColoCheckpoints();
    pause(c, 0, 50);
    pause(c, 2_000, 40);
    pause(c, 4_000, 90);

    var s = c.summary(T.plusSeconds(5));

    assertThat(s.checkpoints()).isEqualTo(3);
    assertThat(s.pauseMedianMs()).isEqualTo(50);
    assertThat(s.pauseMaxMs()).isEqualTo(90);
    assertThat(s.lastCheckpointAt()).isEqualTo(T.plusMillis(4_090));
  }

  @Test
  void summary_pausesOlderThanAMinute_leaveTheFiguresButNotTheCount() {
    var c = new ColoCheckpoints();
    pause(c, 0, 500);
    pause(c, 61_000, 30);

    var s = c.summary(T.plusSeconds(62));

    assertThat(s.checkpoints()).isEqualTo(2);
    assertThat(s.pauseMaxMs()).as("the 500 ms pause is over a minute old").isEqualTo(30);
  }

  @Test
  void resumed_withoutAStop_isNoCheckpoint() {
    var c = new ColoCheckpoints();
    c.resumed(T);

    var s = c.summary(T);

    assertThat(s.checkpoints()).isZero();
    assertThat(s.pauseMedianMs()).isNull();
    assertThat(s.lastCheckpointAt()).isNull();
  }

  private static void pause(ColoCheckpoints c, long atMs, long ms) {
    c.stopped(T.plusMillis(atMs));
    c.resumed(T.plusMillis(atMs + ms));
  }
}
