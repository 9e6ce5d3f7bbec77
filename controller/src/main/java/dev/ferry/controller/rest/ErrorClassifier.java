package dev.ferry.controller.rest;

import dev.ferry.api.Problem;
import dev.ferry.controller.ControllerException;
import io.javalin.http.HttpResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns whatever went wrong into an HTTP status and a problem body. Kinds map
 * to statuses here and nowhere else; an agent's 4xx problem is relayed unchanged; anything
 * unexpected is a 500 whose details go to the log, never into the response.
 */
final class ErrorClassifier {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorClassifier.class);

  private ErrorClassifier() {}

  static Problem classify(Throwable t) {
    return switch (t) {
      case ControllerException e when e.kind() == ControllerException.Kind.AGENT_REJECTED -> e.agentProblem();
      case ControllerException e -> {
        int status = status(e.kind());
        if (status == 500) LOG.error("internal error: {}", e.getMessage(), e);
        yield new Problem("about:blank", title(status), status, e.getMessage(), e.field(), e.value(), e.allowed());
      }
      case HttpResponseException e -> Problem.of(e.getStatus(), title(e.getStatus()), lowerFirst(e.getMessage()));
      default -> {
        LOG.error("internal error", t);
        yield Problem.of(500, title(500), "internal error in the controller; see its log");
      }
    };
  }

  static int status(ControllerException.Kind kind) {
    return switch (kind) {
      case INVALID -> 400;
      case UNAUTHORIZED -> 401;
      case NOT_FOUND -> 404;
      case CONFLICT -> 409;
      case NOT_ACCEPTABLE -> 406;
      case TOO_LARGE -> 413;
      case AGENT_REJECTED -> 400; // never used: the agent's own status is relayed
      case AGENT_FAILED -> 502;
      case UNAVAILABLE -> 503;
      case INTERNAL -> 500;
    };
  }

  static String title(int status) {
    return switch (status) {
      case 400 -> "invalid input";
      case 401 -> "unauthorized";
      case 404 -> "not found";
      case 405 -> "method not allowed";
      case 406 -> "not acceptable";
      case 409 -> "conflict";
      case 413 -> "request too large";
      case 502 -> "agent failed";
      case 503 -> "agent unreachable";
      case 500 -> "internal error";
      default -> "error";
    };
  }

  private static String lowerFirst(String s) {
    if (s == null || s.isEmpty()) return "request failed";
    return Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }
}
