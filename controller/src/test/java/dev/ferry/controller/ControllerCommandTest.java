package dev.ferry.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** {@code ferry controller} option parsing; nothing is started. */
class ControllerCommandTest {

  private static ControllerCommand parse(String... args) {
    ControllerCommand cmd = new ControllerCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd;
  }

  @Test
  void maxMigrationsPerHost_defaultsToTwoAndTakesOneToSixtyFour() {
    assertThat(parse("--data", "/d").maxMigrationsPerHost).isEqualTo(2);
    assertThat(parse("--data", "/d", "--max-migrations-per-host", "1").maxMigrationsPerHost).isEqualTo(1);
    assertThat(parse("--data", "/d", "--max-migrations-per-host", "64").maxMigrationsPerHost).isEqualTo(64);
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "65", "1000", "two", "-1", "2.5", ""})
  void maxMigrationsPerHost_badValue_isAUsageErrorNamingOptionValueAndRange(String value) {
    assertThatThrownBy(() -> parse("--data", "/d", "--max-migrations-per-host", value))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--max-migrations-per-host")
        .hasMessageContaining("max-migrations-per-host '" + value + "' is not valid: a whole number of migrations from 1 to 64");
  }

  @Test
  void hostTimeout_unitForms_parse() {
    assertThat(parse("--data", "/d").hostTimeout).isEqualTo(java.time.Duration.ofSeconds(10));
    assertThat(parse("--data", "/d", "--host-timeout", "1500ms").hostTimeout).isEqualTo(java.time.Duration.ofMillis(1500));
    assertThat(parse("--data", "/d", "--host-timeout", "2m").hostTimeout).isEqualTo(java.time.Duration.ofMinutes(2));
  }

  @ParameterizedTest
  @ValueSource(strings = {"10", "0s", "soon", "-1s"})
  void hostTimeout_bareNumberZeroOrUnreadable_isAUsageErrorNamingOptionValueAndUnits(String value) {
    assertThatThrownBy(() -> parse("--data", "/d", "--host-timeout", value))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--host-timeout")
        .hasMessageContaining("'" + value + "' is not valid")
        .hasMessageContaining("ms, s, m or h");
  }

  @Test
  void config_outOfRangeLimit_isRefused() {
    ControllerConfig ok = ControllerConfig.loopback(Path.of("/d"), null);

    assertThat(ok.withMaxMigrationsPerHost(64).maxMigrationsPerHost()).isEqualTo(64);
    assertThatThrownBy(() -> ok.withMaxMigrationsPerHost(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1-64");
    assertThatThrownBy(() -> ok.withMaxMigrationsPerHost(65)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void growthOptions_defaultAndDays_parse() {
    ControllerCommand d = parse("--data", "/d");
    assertThat(d.eventRetention).isEqualTo(java.time.Duration.ofDays(7));
    assertThat(d.eventMaxCount).isEqualTo(GrowthLimits.DEFAULT_EVENT_MAX_COUNT);
    assertThat(d.sseMaxClients).isEqualTo(GrowthLimits.DEFAULT_SSE_MAX_CLIENTS);
    assertThat(parse("--data", "/d", "--event-retention", "30d").eventRetention).isEqualTo(java.time.Duration.ofDays(30));
    assertThat(parse("--data", "/d", "--event-retention", "12h").eventRetention).isEqualTo(java.time.Duration.ofHours(12));
  }

  @ParameterizedTest
  @ValueSource(strings = {"0d", "7", "week"})
  void eventRetention_badValue_isAUsageErrorNamingOption(String value) {
    assertThatThrownBy(() -> parse("--data", "/d", "--event-retention", value))
        .isInstanceOf(ParameterException.class)
        .hasMessageContaining("--event-retention")
        .hasMessageContaining("'" + value + "' is not valid");
  }
}
