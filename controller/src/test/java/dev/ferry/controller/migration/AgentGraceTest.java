package dev.ferry.controller.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The agent grace: a minute unless a test shortens it through the controller's environment. */
class AgentGraceTest {

  @Test
  void unset_isTheProductionMinute() {
    assertThat(MigrationService.agentGrace(null)).isEqualTo(Duration.ofSeconds(60));
    assertThat(MigrationService.agentGrace(" ")).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void set_isTheDurationATestAskedFor() {
    assertThat(MigrationService.agentGrace("10s")).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void malformedOrZero_isRefusedNamingTheVariable() {
    assertThatThrownBy(() -> MigrationService.agentGrace("10")).hasMessageContaining("FERRY_TEST_AGENT_GRACE");
    assertThatThrownBy(() -> MigrationService.agentGrace("0s")).hasMessageContaining("FERRY_TEST_AGENT_GRACE");
  }
}
