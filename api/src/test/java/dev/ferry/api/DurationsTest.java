package dev.ferry.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  @ParameterizedTest
  @CsvSource({"500ms, 500", "10s, 10000", "5m, 300000", "1h, 3600000", "0s, 0", "2 s, 2000", "10S, 10000",
      "PT3S, 3000", "pt1m, 60000"})
  void parse_eachUnit_givesThatDuration(String text, long millis) {
    assertThat(Durations.parse("--timeout", text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"10", "0", "500"})
  void parse_bareNumber_isRefusedNamingFieldValueAndUnits(String text) {
    assertThatThrownBy(() -> Durations.parse("--host-timeout", text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--host-timeout '" + text + "' is not valid: a number needs a unit (ms, s, m or h), e.g. "
            + text + "s or " + text + "ms");
  }

  @ParameterizedTest
  @ValueSource(strings = {"soon", "", "1.5s", "10d", "s", "-5s", "5 minutes", "PTxS"})
  void parse_unreadable_isRefusedWithTheRule(String text) {
    assertThatThrownBy(() -> Durations.parse("timeout", text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout '" + text + "' is not valid: " + Durations.RULE);
  }

  @Test
  void parse_negativeIso_isRefused() {
    assertThatThrownBy(() -> Durations.parse("timeout", "PT-5S"))
        .hasMessage("timeout 'PT-5S' is not valid: not negative; " + Durations.RULE);
  }

  @ParameterizedTest
  @ValueSource(strings = {"99999999999999999999s", "9223372036854775807h", "9223372036854775807m"})
  void parse_overflow_isRefusedAsTooLarge(String text) {
    assertThatThrownBy(() -> Durations.parse("timeout", text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("timeout '" + text + "' is not valid: too large for a duration; " + Durations.RULE);
  }

  @Test
  void parse_null_isRefused() {
    assertThatThrownBy(() -> Durations.parse("timeout", null)).hasMessageStartingWith("timeout 'null' is not valid");
  }

  @Test
  void parsePositive_zero_isRefused() {
    assertThat(Durations.parsePositive("--host-timeout", "1ms")).isEqualTo(Duration.ofMillis(1));
    assertThatThrownBy(() -> Durations.parsePositive("--host-timeout", "0s"))
        .hasMessage("--host-timeout '0s' is not valid: more than 0; " + Durations.RULE);
  }
}
