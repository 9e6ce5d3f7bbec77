package dev.ferry.nbd.copy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyPlanTest {

  private static final int ZERO = MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO;

  @Test
  void fromAllocation_zeroExtentsAreZeroRangesDataMerged() {
    CopyPlan plan = CopyPlan.fromAllocation(100, List.of(new Extent(0, 10, 0),
        new Extent(10, 20, MetaContexts.STATE_HOLE), new Extent(30, 70, ZERO)));

    assertThat(plan.ranges()).containsExactly(new CopyRange(0, 30, false),
        new CopyRange(30, 70, true));
    assertThat(plan.dataBytes()).isEqualTo(30);
    assertThat(plan.zeroBytes()).isEqualTo(70);
  }

  @Test
  void fromDirty_onlyDirtyRangesSplitByAllocation() {
    List<Extent> dirty = List.of(new Extent(0, 20, 0), new Extent(20, 40, MetaContexts.STATE_DIRTY),
        new Extent(60, 40, 0));
    List<Extent> allocation = List.of(new Extent(0, 30, 0), new Extent(30, 20, ZERO),
        new Extent(50, 50, 0));

    assertThat(CopyPlan.fromDirty(100, dirty, allocation).ranges()).containsExactly(
        new CopyRange(20, 10, false), new CopyRange(30, 20, true), new CopyRange(50, 10, false));
  }

  @Test
  void split_dataIntoRequestsZeroesWhole() {
    CopyPlan plan = new CopyPlan(10_000, List.of(new CopyRange(0, 9000, false),
        new CopyRange(9000, 1000, true)));

    assertThat(DiskCopy.split(plan, 4096)).containsExactly(new CopyRange(0, 4096, false),
        new CopyRange(4096, 4096, false), new CopyRange(8192, 808, false),
        new CopyRange(9000, 1000, true));
  }
}
