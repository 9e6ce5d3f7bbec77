package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.agent.WarmCopyStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A pass's time as the final pass would cost the cutover, not as a 200 ms poll happened to see it. */
class WarmPassTimeTest {

  static WarmCopyStatus copied(Long passMs) {
    return new WarmCopyStatus("m", WarmCopyStatus.COPIED, 2, 0, 0, 1 << 20, 1 << 20, passMs, List.of(), null);
  }

  @Test
  void aPassSeenAtASlowPoll_countsItsStart_theTargetsFigure_andHalfAFinalPoll() {
    // measured in the copy bench: 81 ms on the target, 270 ms until the controller's poll saw it
    assertThat(WarmMigration.passMs(copied(81L), false, 30, 270)).isEqualTo(30 + 81 + 2);
  }

  @Test
  void neverMoreThanTheControllerSaw() {
    assertThat(WarmMigration.passMs(copied(81L), false, 30, 100)).isEqualTo(100);
  }

  @Test
  void withoutTheTargetsFigure_whatTheControllerSaw() {
    assertThat(WarmMigration.passMs(copied(null), false, 30, 270)).isEqualTo(270);
  }

  @Test
  void aPassResumedAfterARestart_theTargetsFigureAlone() {
    assertThat(WarmMigration.passMs(copied(81L), true, 0, 5000)).isEqualTo(81);
  }
}
