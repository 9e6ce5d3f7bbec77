package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.api.MigrationStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;

/**
 * A migration's {@code total_ms} is counted by the controller's clock, the one its phases and
 * downtime are measured by: before, a running migration's total came from the wall clock, so under
 * a test's clock (or any clock but the system's) it was off by the difference.
 */
class MigrationTotalTest {

  private static final Instant STARTED = Instant.parse("2026-01-01T10:00:00Z");

  @Test
  void running_totalIsTheControllersClockSinceTheStart() throws Exception {
    MigrationContext ctx = context(STARTED.plusSeconds(90));
    MigrationRecord r = record();

    assertThat(ctx.view(r).totalMs()).isEqualTo(90_000);
    assertThat(ctx.json(r)).contains("\"total_ms\":90000");
  }

  @Test
  void ended_totalStopsAtTheEnd() {
    MigrationRecord r = record();
    r.end(MigrationStatus.SUCCEEDED, STARTED.plusMillis(1_500));

    assertThat(context(STARTED.plusSeconds(3600)).view(r).totalMs()).isEqualTo(1_500);
  }

  private static MigrationRecord record() {
    MigrationRecord r = new MigrationRecord();
    r.id = "6a0f3c52-1d1e-4b4e-9a62-3f1c2b7d8e90";
    r.kind = "warm";
    r.vm = "web";
    r.startedAt = STARTED;
    return r;
  }

  private static MigrationContext context(Instant now) {
    return new MigrationContext(null, null, null, null, InstantSource.fixed(now), Duration.ofSeconds(10));
  }
}
