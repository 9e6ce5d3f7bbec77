package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WarmPhaseTest {

  @Test
  void cancel_takenUntilTheOwnershipChange_notAfter() {
    assertThat(WarmPhase.cancellable()).containsExactly("pending", "preparing", "copying", "shutting_down",
        "final_pass", "verifying", "defining");
    assertThat(WarmPhase.STARTING.pastPointOfNoReturn()).isTrue();
    assertThat(WarmPhase.DEFINING.canMoveTo(WarmPhase.CANCELLING)).isTrue();
    assertThat(WarmPhase.STARTING.canMoveTo(WarmPhase.CANCELLING)).isFalse();
  }

  @Test
  void phases_goForwardOnly_andARollbackThatFindsTheOwnerChangedRollsForward() {
    assertThat(WarmPhase.COPYING.canMoveTo(WarmPhase.SHUTTING_DOWN)).isTrue();
    assertThat(WarmPhase.FINAL_PASS.canMoveTo(WarmPhase.COPYING)).isFalse();
    assertThat(WarmPhase.CANCELLING.canMoveTo(WarmPhase.RELEASING)).isTrue();
    assertThat(WarmPhase.CANCELLING.canMoveTo(WarmPhase.DONE)).isFalse();
    assertThat(WarmPhase.COPYING.canMoveTo(WarmPhase.ROLLED_BACK)).isFalse();
  }

  @Test
  void manualCutover_takenOnlyWhileThePassesRun() {
    assertThat(WarmPhase.cutoverable()).containsExactly("pending", "preparing", "copying");
  }
}
