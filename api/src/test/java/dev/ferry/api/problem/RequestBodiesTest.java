package dev.ferry.api.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.Problem;
import dev.ferry.api.VmCreateRequest;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The one body reader of the agent's and the controller's APIs. */
class RequestBodiesTest {

  private static BadBody refused(String body, Class<?> type) {
    return catchThrowableOfType(BadBody.class,
        () -> RequestBodies.read(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), -1, type));
  }

  @Test
  void read_overTheLimit_isTooLargeWhetherDeclaredOrNot() {
    BadBody declared = catchThrowableOfType(BadBody.class,
        () -> RequestBodies.read(new ByteArrayInputStream(new byte[0]), ApiPaths.MAX_BODY_BYTES + 1L, Object.class));
    BadBody undeclared = catchThrowableOfType(BadBody.class,
        () -> RequestBodies.read(new ByteArrayInputStream(new byte[ApiPaths.MAX_BODY_BYTES + 10]), -1, Object.class));

    assertThat(declared.tooLarge()).isTrue();
    assertThat(undeclared.tooLarge()).isTrue();
    assertThat(undeclared).hasMessageContaining("larger than the limit of " + ApiPaths.MAX_BODY_BYTES + " bytes");
  }

  @Test
  void refuseOversized_drainsOnlyWhenOverTheLimit() {
    AtomicBoolean opened = new AtomicBoolean();
    RequestBodies.refuseOversized(ApiPaths.MAX_BODY_BYTES, () -> {
      opened.set(true);
      return new ByteArrayInputStream(new byte[0]);
    });
    assertThat(opened).isFalse();

    BadBody b = catchThrowableOfType(BadBody.class, () -> RequestBodies.refuseOversized(ApiPaths.MAX_BODY_BYTES + 1L,
        () -> {
          opened.set(true);
          return new ByteArrayInputStream(new byte[100]);
        }));
    assertThat(opened).isTrue();
    assertThat(b.tooLarge()).isTrue();
  }

  @Test
  void read_emptyNullOrMalformed_namesTheBody() {
    assertThat(refused("", Object.class).field()).isEqualTo("body");
    assertThat(refused("null", PoolCreateRequest.class).value()).isEqualTo("null");
    BadBody malformed = refused("{\"path\":", PoolCreateRequest.class);
    assertThat(malformed.field()).isEqualTo("body");
    assertThat(malformed.tooLarge()).isFalse();
    assertThat(malformed).hasMessageStartingWith("malformed JSON at line 1");
  }

  @Test
  void read_unknownField_namesItAndTheKnownOnes() {
    BadBody b = refused("{\"path\":\"/p\",\"shared\":false,\"colour\":\"red\"}", PoolCreateRequest.class);

    assertThat(b.field()).isEqualTo("colour");
    assertThat(b.value()).isEqualTo("colour");
    assertThat(b.allowed()).startsWith("known fields: ");
  }

  @Test
  void read_wrongTypeDeepInside_namesThePathInApiSpelling() {
    BadBody b = refused("{\"name\":\"web\",\"host\":\"host1\",\"memory_bytes\":1,\"cpus\":1,\"kernel\":\"k\","
        + "\"disks\":[{\"size_bytes\":\"big\"}]}", VmCreateRequest.class);

    assertThat(b.field()).isEqualTo("disks[0].size_bytes");
    assertThat(b.value()).isEqualTo("big");
  }

  /** Both layers build their answer the same way from their own kinds. */
  @Test
  void problemSource_buildsTheProblemFromKindAndBadInput() {
    ProblemKind kind = new ProblemKind() {
      public int status() {
        return 400;
      }

      public String title() {
        return "invalid input";
      }
    };
    ProblemSource source = new ProblemSource() {
      public ProblemKind kind() {
        return kind;
      }

      public String getMessage() {
        return "cpus '0' is not valid: 1 to 64";
      }

      public String field() {
        return "cpus";
      }

      public String value() {
        return "0";
      }

      public String allowed() {
        return "1 to 64";
      }
    };

    assertThat(source.problem()).isEqualTo(
        new Problem("about:blank", "invalid input", 400, "cpus '0' is not valid: 1 to 64", "cpus", "0", "1 to 64"));
  }
}
