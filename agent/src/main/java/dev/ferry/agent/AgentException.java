package dev.ferry.agent;

import dev.ferry.api.problem.BadBody;
import dev.ferry.api.problem.ProblemKind;
import dev.ferry.api.problem.ProblemSource;

/**
 * The one exception root of the agent layer. The {@link Kind} says what the caller can do about
 * it and carries its HTTP status; the problem is built in the shape the controller uses too
 * ({@link ProblemSource}), so no code below the API edge decides a status.
 *
 * <p>Bad input made by {@link #badInput} also carries the field, the value and what is allowed,
 * so the answer tells the user exactly what to change.
 */
public class AgentException extends RuntimeException implements ProblemSource {

  /** What went wrong, from the caller's point of view, and the status it answers with. */
  public enum Kind implements ProblemKind {
    /** the request names something that does not exist */
    NOT_FOUND(404, "not found"),
    /** the request is malformed or names a value outside what is allowed */
    INVALID(400, "invalid input"),
    /** the request is valid but conflicts with the current state */
    CONFLICT(409, "conflict"),
    /** a resource (memory, disk space) is short; the contract: "not enough free memory" is a conflict too */
    INSUFFICIENT(409, "insufficient resources"),
    /** the request carries no valid cluster token */
    UNAUTHORIZED(401, "unauthorized"),
    /** the request body is larger than the API accepts */
    TOO_LARGE(413, "request too large"),
    /** a process or peer this host depends on failed or did not answer */
    UNAVAILABLE(503, "unavailable"),
    /** a bug or an unexpected condition on this host */
    INTERNAL(500, "internal error");

    private final int status;
    private final String title;

    Kind(int status, String title) {
      this.status = status;
      this.title = title;
    }

    @Override
    public int status() {
      return status;
    }

    @Override
    public String title() {
      return title;
    }
  }

  private final Kind kind;
  private final String field;
  private final String value;
  private final String allowed;

  public AgentException(Kind kind, String message) {
    this(kind, message, null, null, null, null);
  }

  public AgentException(Kind kind, String message, Throwable cause) {
    this(kind, message, null, null, null, cause);
  }

  private AgentException(Kind kind, String message, String field, String value, String allowed, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }

  /** Invalid input naming the field (as spelled in the JSON or query), the value and the rule. */
  public static AgentException badInput(String field, String value, String allowed) {
    return new AgentException(Kind.INVALID, field + " '" + value + "' is not valid: " + allowed,
        field, value, allowed, null);
  }

  /**
   * Too little of a resource (e.g. free space in a pool) for the value asked: 409 like other
   * shortages, still naming the field, the value and what would fit.
   */
  public static AgentException insufficient(String field, String value, String allowed) {
    return new AgentException(Kind.INSUFFICIENT, field + " '" + value + "' is too large: " + allowed,
        field, value, allowed, null);
  }

  /** A request body the shared reader refused, as the agent's own bad input or 413. */
  public static AgentException of(BadBody b) {
    return b.tooLarge() ? new AgentException(Kind.TOO_LARGE, b.getMessage(), b)
        : new AgentException(Kind.INVALID, b.getMessage(), b.field(), b.value(), b.allowed(), b);
  }

  @Override
  public Kind kind() {
    return kind;
  }

  /** The offending field of bad input, or null. */
  @Override
  public String field() {
    return field;
  }

  /** The offending value of bad input, or null. */
  @Override
  public String value() {
    return value;
  }

  /** What the field allows, or null. */
  @Override
  public String allowed() {
    return allowed;
  }
}
