package dev.ferry.controller.rest;

import dev.ferry.api.Problem;
import dev.ferry.controller.ControllerException;
import io.javalin.http.HttpResponseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns whatever went wrong into an HTTP status and a problem body. A
 * {@link ControllerException} is its own problem (its kind carries the status; an agent's 4xx is
 * relayed unchanged); anything unexpected is a 500 whose details go to the log, never into the response.
 */
final class ErrorClassifier {

  private static final Logger LOG = LoggerFactory.getLogger(ErrorClassifier.class);

  private ErrorClassifier() {}

  static Problem classify(Throwable t) {
    return switch (t) {
      case ControllerException e -> {
        if (e.kind() == ControllerException.Kind.INTERNAL) LOG.error("internal error: {}", e.getMessage(), e);
        yield e.problem();
      }
      case HttpResponseException e -> Problem.of(e.getStatus(), title(e.getStatus()), lowerFirst(e.getMessage()));
      default -> {
        LOG.error("internal error", t);
        yield Problem.of(500, title(500), "internal error in the controller; see its log");
      }
    };
  }

  /** Titles for statuses Javalin itself answers (405, ...); a ControllerException's come from its kind. */
  static String title(int status) {
    return switch (status) {
      case 400 -> "invalid input";
      case 401 -> "unauthorized";
      case 403 -> "forbidden";
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
