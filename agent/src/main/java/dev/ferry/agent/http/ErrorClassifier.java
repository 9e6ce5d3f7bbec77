package dev.ferry.agent.http;

import dev.ferry.agent.AgentException;
import dev.ferry.api.Problem;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where the agent turns failures into answers: an {@link AgentException} is its
 * own {@link Problem} (its kind carries the status), a QMP failure a conflict or 503. Anything else that escapes a handler is a bug; the caller gets a
 * 500 that says where to look, the log gets the stack trace, the response never does.
 */
final class ErrorClassifier {

  private static final Logger log = LoggerFactory.getLogger(ErrorClassifier.class);

  private ErrorClassifier() {}

  /** The problem document for a failure of a request; {@code request} is for the log only. */
  static Problem classify(Throwable failure, String request) {
    return switch (failure) {
      case AgentException e -> {
        if (e.kind().status() >= 500) log.warn("{} failed: {}", request, e.getMessage(), e.getCause());
        else log.debug("{} refused: {}", request, e.getMessage());
        yield e.problem();
      }
      // qemu refused a command in its current state (a parameter out of range, a migration in the
      // wrong state): the caller's request conflicts with the guest's state, in qemu's own words
      case QmpErrorException e -> {
        log.info("{} refused by qemu: {}", request, e.getMessage());
        yield Problem.of(409, "conflict", "qemu refused " + e.command() + ": " + e.desc());
      }
      case QmpException e -> {
        log.warn("{} failed talking to qemu: {}", request, e.getMessage());
        yield Problem.of(503, "unavailable", "qemu did not answer: " + e.getMessage());
      }
      default -> {
        log.error("{} failed with an unexpected error", request, failure);
        yield Problem.of(500, "internal error", "unexpected " + failure.getClass().getSimpleName()
            + " on the agent; its log has the details");
      }
    };
  }
}
