package dev.ferry.api.problem;

import dev.ferry.api.Problem;

/**
 * An exception root that knows its {@link ProblemKind} and, for bad input, the field, the value
 * and what is allowed: the one shape from which the agent and the controller build their
 * {@link Problem} answers.
 */
public interface ProblemSource {

  ProblemKind kind();

  String getMessage();

  /** The offending field of bad input, or null. */
  String field();

  /** The offending value of bad input, or null. */
  String value();

  /** What the field allows, or null. */
  String allowed();

  /** The answer to the caller: the kind's status and title, the message as the detail. */
  default Problem problem() {
    return new Problem("about:blank", kind().title(), kind().status(), getMessage(), field(), value(), allowed());
  }
}
