package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.QemuMigrationStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The link a migration's own first pass shows, from the controller's samples of the source. */
class FirstPassRateTest {

  private static final long MIB = 1L << 20;
  private static final Instant T0 = Instant.parse("2026-12-06T07:00:00Z");

  private final FirstPassRate rate = new FirstPassRate();

  private static MigrationStats sample(QemuMigrationStatus status, long passes, long remainingMib) {
    return new MigrationStats("m", OutgoingPhase.MIGRATING, status, null, null, null, null, 0, remainingMib * MIB,
        256 * MIB, 0, 900.0, passes, 0, List.of(), null, null, null, null, null);
  }

  private Double at(long ms, QemuMigrationStatus status, long passes, long remainingMib) {
    var r = rate.observe(sample(status, passes, remainingMib), T0.plusMillis(ms));
    return r.isPresent() ? r.getAsDouble() : null;
  }

  @Test
  void ramThroughTheFirstPassPerSecond_overHalfASecond() {
    assertThat(at(0, QemuMigrationStatus.SETUP, 0, 0)).as("setup has no RAM figures").isNull();
    assertThat(at(50, QemuMigrationStatus.ACTIVE, 1, 250)).as("the first sample starts the span").isNull();
    assertThat(at(300, QemuMigrationStatus.ACTIVE, 1, 180)).as("250 ms: too short").isNull();
    // 250 - 100 = 150 MiB of RAM in 500 ms (zero pages counted like any other)
    assertThat(at(550, QemuMigrationStatus.ACTIVE, 1, 100)).isEqualTo(300.0 * MIB);
    assertThat(at(2000, QemuMigrationStatus.ACTIVE, 3, 10)).as("kept once known").isEqualTo(300.0 * MIB);
  }

  @Test
  void aFirstPassShorterThanTheSpan_isMeasuredToItsEnd() {
    at(100, QemuMigrationStatus.ACTIVE, 1, 200);
    // pass 2 seen 300 ms later: the 200 MiB left went through the first pass by then
    assertThat(at(400, QemuMigrationStatus.ACTIVE, 2, 40)).isCloseTo(200.0 / 0.3 * MIB, within(1.0));
  }

  @Test
  void aMigrationFirstSeenPastItsFirstPass_showsNothing() {
    assertThat(at(0, QemuMigrationStatus.ACTIVE, 2, 40)).isNull();
    assertThat(at(900, QemuMigrationStatus.ACTIVE, 3, 10)).isNull();
  }
}
