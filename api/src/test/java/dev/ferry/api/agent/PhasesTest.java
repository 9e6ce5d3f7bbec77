package dev.ferry.api.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PhasesTest {

  @Test
  void outgoing_happyPath_movesForwardOnly() {
    var path = List.of(OutgoingPhase.PREPARING, OutgoingPhase.MIRRORING, OutgoingPhase.MIGRATING, OutgoingPhase.SWITCHOVER,
        OutgoingPhase.COMPLETED, OutgoingPhase.HANDED_OVER);
    for (int i = 1; i < path.size(); i++) {
      assertThat(path.get(i - 1).canMoveTo(path.get(i))).as(path.get(i - 1) + " -> " + path.get(i)).isTrue();
      assertThat(path.get(i).canMoveTo(path.get(i - 1))).as(path.get(i) + " -> " + path.get(i - 1)).isFalse();
    }
  }

  @Test
  void outgoing_afterCompleted_cannotFailOrCancel() {
    assertThat(OutgoingPhase.COMPLETED.canMoveTo(OutgoingPhase.CANCELLED)).isFalse();
    assertThat(OutgoingPhase.COMPLETED.canMoveTo(OutgoingPhase.FAILED)).isFalse();
    assertThat(OutgoingPhase.COMPLETED.blocksActions()).as("the guest belongs to the target").isTrue();
    assertThat(OutgoingPhase.COMPLETED.canMoveTo(OutgoingPhase.RECLAIMED)).as("only when its target never ran").isTrue();
  }

  @Test
  void outgoing_endedPhases_areTerminalAndReleaseTheVm() {
    for (OutgoingPhase end : List.of(OutgoingPhase.FAILED, OutgoingPhase.CANCELLED, OutgoingPhase.HANDED_OVER,
        OutgoingPhase.RECLAIMED)) {
      var reachable = new ArrayList<OutgoingPhase>();
      for (OutgoingPhase p : OutgoingPhase.values()) if (end.canMoveTo(p)) reachable.add(p);
      assertThat(reachable).as(end.name()).isEmpty();
      assertThat(end.blocksActions()).isFalse();
      assertThat(end.ended()).isTrue();
    }
  }

  @Test
  void outgoing_beforeCompletion_canBeCancelledOrFail() {
    for (OutgoingPhase p : List.of(OutgoingPhase.PREPARING, OutgoingPhase.MIRRORING, OutgoingPhase.MIGRATING,
        OutgoingPhase.SWITCHOVER)) {
      assertThat(p.canMoveTo(OutgoingPhase.CANCELLED)).as(p.name()).isTrue();
      assertThat(p.canMoveTo(OutgoingPhase.FAILED)).as(p.name()).isTrue();
    }
  }

  @Test
  void incoming_afterResuming_cannotRollBack() {
    assertThat(IncomingPhase.LISTENING.canMoveTo(IncomingPhase.ROLLED_BACK)).isTrue();
    assertThat(IncomingPhase.RESUMING.canMoveTo(IncomingPhase.ROLLED_BACK)).isFalse();
    assertThat(IncomingPhase.RESUMING.canMoveTo(IncomingPhase.FINISHED)).isTrue();
    assertThat(IncomingPhase.FINISHED.blocksActions()).isFalse();
    assertThat(IncomingPhase.LISTENING.blocksActions()).isTrue();
  }
}
