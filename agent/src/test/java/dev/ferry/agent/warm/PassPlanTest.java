package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ranges a later pass asks the allocation of: the dirty ones, adjacent ones as one. */
class PassPlanTest {

  private static final int DIRTY = MetaContexts.STATE_DIRTY;

  @Test
  void marked_cleanSkippedAdjacentDirtyMerged() {
    List<Extent> bitmap = List.of(new Extent(0, 65536, 0), new Extent(65536, 65536, DIRTY),
        new Extent(131072, 65536, DIRTY), new Extent(196608, 1 << 20, 0), new Extent(1245184, 65536, DIRTY));

    assertThat(PassPlan.marked(bitmap)).containsExactly(new long[] {65536, 196608}, new long[] {1245184, 1310720});
  }

  @Test
  void marked_nothingDirty_nothingAsked() {
    assertThat(PassPlan.marked(List.of(new Extent(0, 1 << 30, 0)))).isEmpty();
  }
}
