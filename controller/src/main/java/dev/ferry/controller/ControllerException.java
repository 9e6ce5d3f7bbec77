package dev.ferry.controller;

import dev.ferry.api.Problem;
import dev.ferry.api.problem.BadBody;
import dev.ferry.api.problem.ProblemKind;
import dev.ferry.api.problem.ProblemSource;

/**
 * The one exception root of the controller. The {@link Kind} says what the caller can do about
 * it and carries its HTTP status; the problem is built in the shape the agent uses too
 * ({@link ProblemSource}), so no code below the API edge picks a status. Bad input carries the {@code field}, {@code value} and {@code allowed} the
 * problem body names; a refusal relayed from an agent carries the agent's problem unchanged.
 */
public final class ControllerException extends RuntimeException implements ProblemSource {

  /** What went wrong, from the caller's point of view, and the status it answers with. */
  public enum Kind implements ProblemKind {
    /** the request is malformed or names a value outside what is allowed */
    INVALID(400, "invalid input"),
    /** no or an unknown bearer token */
    UNAUTHORIZED(401, "unauthorized"),
    /** a known token or credential that may not do this: the message names what is needed */
    FORBIDDEN(403, "forbidden"),
    /** the request names a host, VM or pool that does not exist */
    NOT_FOUND(404, "not found"),
    /** the request is valid but conflicts with the current state */
    CONFLICT(409, "conflict"),
    /** the client does not accept the only media type the endpoint produces */
    NOT_ACCEPTABLE(406, "not acceptable"),
    /** the request body is larger than the API accepts */
    TOO_LARGE(413, "request too large"),
    /** an agent refused the request with a 4xx problem; it is relayed as is (never answered with this status) */
    AGENT_REJECTED(400, "invalid input"),
    /** an agent answered with a server error */
    AGENT_FAILED(502, "agent failed"),
    /** the controller is at a configured limit (e.g. open event streams); retrying later may succeed */
    BUSY(503, "service unavailable"),
    /** an agent could not be reached or did not answer in time */
    UNAVAILABLE(503, "agent unreachable"),
    /** a bug or an unexpected condition in the controller */
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
  private final Problem agentProblem;

  private ControllerException(Kind kind, String message, String field, String value, String allowed,
      Problem agentProblem, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.field = field;
    this.value = value;
    this.allowed = allowed;
    this.agentProblem = agentProblem;
  }

  public ControllerException(Kind kind, String message) {
    this(kind, message, null, null, null, null, null);
  }

  public ControllerException(Kind kind, String message, Throwable cause) {
    this(kind, message, null, null, null, null, cause);
  }

  /** 400 naming the field, the value given and what is allowed. */
  public static ControllerException invalid(String field, Object value, String allowed) {
    String v = String.valueOf(value);
    return new ControllerException(Kind.INVALID, field + " '" + v + "' is not valid: " + allowed,
        field, v, allowed, null, null);
  }

  /** 400 with a message of its own, still naming the field. */
  public static ControllerException invalid(String field, Object value, String allowed, String message) {
    return new ControllerException(Kind.INVALID, message, field, String.valueOf(value), allowed, null, null);
  }

  /** 404 naming the field that referred to the missing thing and the names that do exist. */
  public static ControllerException notFound(String field, String value, String message, String known) {
    return new ControllerException(Kind.NOT_FOUND, message, field, value, known, null, null);
  }

  /** 409 naming the field whose value conflicts with the current state. */
  public static ControllerException conflict(String field, Object value, String message) {
    return new ControllerException(Kind.CONFLICT, message, field,
        value == null ? null : String.valueOf(value), null, null, null);
  }

  /** A 4xx problem an agent answered, relayed to the user with the same status and body. */
  public static ControllerException agentRejected(Problem problem) {
    return new ControllerException(Kind.AGENT_REJECTED, problem.detail(), problem.field(),
        problem.value(), problem.allowed(), problem, null);
  }

  /** A request body the shared reader refused, as the controller's own 400 or 413. */
  public static ControllerException of(BadBody b) {
    return b.tooLarge() ? new ControllerException(Kind.TOO_LARGE, b.getMessage(), b)
        : new ControllerException(Kind.INVALID, b.getMessage(), b.field(), b.value(), b.allowed(), null, b);
  }

  /** The relayed agent problem for {@link Kind#AGENT_REJECTED}, else the kind's status and this message. */
  @Override
  public Problem problem() {
    return kind == Kind.AGENT_REJECTED ? agentProblem : ProblemSource.super.problem();
  }

  @Override
  public Kind kind() {
    return kind;
  }

  @Override
  public String field() {
    return field;
  }

  @Override
  public String value() {
    return value;
  }

  @Override
  public String allowed() {
    return allowed;
  }

  /** The agent's problem for {@link Kind#AGENT_REJECTED}, else null. */
  public Problem agentProblem() {
    return agentProblem;
  }
}
