package dev.ferry.agent.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.Problem;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ErrorClassifierTest {

  @ParameterizedTest
  @CsvSource({"INVALID,400", "UNAUTHORIZED,401", "NOT_FOUND,404", "CONFLICT,409", "INSUFFICIENT,409",
      "TOO_LARGE,413", "INTERNAL,500", "UNAVAILABLE,503"})
  void classify_eachKind_mapsToItsStatus(Kind kind, int status) {
    Problem p = ErrorClassifier.classify(new AgentException(kind, "vm web is running"), "test");

    assertThat(p.status()).isEqualTo(status);
    assertThat(p.detail()).isEqualTo("vm web is running");
    assertThat(p.title()).isNotBlank();
  }

  @Test
  void classify_badInput_keepsFieldValueAllowed() {
    Problem p = ErrorClassifier.classify(AgentException.badInput("kernel", "/etc/passwd", "a path inside [local]"), "test");

    assertThat(p).extracting(Problem::status, Problem::field, Problem::value, Problem::allowed)
        .containsExactly(400, "kernel", "/etc/passwd", "a path inside [local]");
  }

  @Test
  void classify_unexpectedException_is500WithoutItsMessage() {
    Problem p = ErrorClassifier.classify(new IllegalStateException("secret internals at line 42"), "test");

    assertThat(p.status()).isEqualTo(500);
    assertThat(p.detail()).doesNotContain("secret internals").contains("IllegalStateException");
  }
}
