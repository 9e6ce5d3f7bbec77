package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MemoryPlanTest {

  private static final QemuVersion V72 = new QemuVersion(7, 2, 19);

  /** The sizes people ask for are exactly the ones QEMU 7.2 under TCG migrates wrongly. */
  @ParameterizedTest
  @ValueSource(longs = {128L << 20, 256L << 20, 512L << 20, 1L << 30, 4L << 30})
  void plan_tcgAndMultipleOf256KiB_takesOff8KiB(long requested) {
    MemoryPlan plan = MemoryPlan.plan(requested, Accelerator.TCG, V72);

    assertThat(plan.givenBytes()).isEqualTo(requested - 8192);
    assertThat(plan.givenBytes() % (256 * 1024)).isNotZero();
    assertThat(plan.adjusted()).isTrue();
    assertThat(plan.adjustment()).get().asString().contains("7.2.19", "tcg", "256 KiB");
    assertThat(plan.qemuArgument()).isEqualTo((requested / 1024 - 8) + "k");
  }

  @Test
  void plan_kvm_keepsTheRequestedSize() {
    MemoryPlan plan = MemoryPlan.plan(512L << 20, Accelerator.KVM, V72);

    assertThat(plan.givenBytes()).isEqualTo(512L << 20);
    assertThat(plan.adjustment()).isEmpty();
    assertThat(plan.qemuArgument()).isEqualTo("524288k");
  }

  /** The bug was seen in 7.2 only: another QEMU under TCG gets what was asked for. */
  @ParameterizedTest
  @ValueSource(strings = {"8.2.2", "7.1.0", "9.2.0"})
  void plan_tcgOnAnotherQemu_keepsTheRequestedSize(String version) {
    String[] v = version.split("\\.");
    var other = new QemuVersion(Integer.parseInt(v[0]), Integer.parseInt(v[1]), Integer.parseInt(v[2]));

    MemoryPlan plan = MemoryPlan.plan(512L << 20, Accelerator.TCG, other);

    assertThat(plan.givenBytes()).isEqualTo(512L << 20);
    assertThat(plan.adjustment()).isEmpty();
  }

  @Test
  void plan_tcgAndSizeNotOnTheBugAlignment_keepsTheRequestedSize() {
    long requested = (512L << 20) - 8192;

    MemoryPlan plan = MemoryPlan.plan(requested, Accelerator.TCG, V72);

    assertThat(plan.givenBytes()).isEqualTo(requested);
    assertThat(plan.adjusted()).isFalse();
  }

  @Test
  void plan_sizeNotWholePages_isRefusedWithTheValue() {
    assertThatThrownBy(() -> MemoryPlan.plan((64L << 20) + 100, Accelerator.TCG, V72))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Long.toString((64L << 20) + 100));
  }

  @Test
  void plan_tooSmall_isRefused() {
    assertThatThrownBy(() -> MemoryPlan.plan(1L << 20, Accelerator.KVM, V72))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least 16 MiB");
  }
}
