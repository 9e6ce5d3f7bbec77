package dev.ferry.agent;

/**
 * The one exception root of the agent layer. The {@link Kind} says what the caller can do about
 * it; a single classifier turns kinds into HTTP statuses and exit codes, so no code below the API
 * edge decides those.
 *
 * <p>Bad input made by {@link #badInput} also carries the field, the value and what is allowed,
 * so the answer tells the user exactly what to change.
 */
public class AgentException extends RuntimeException {

  /** What went wrong, from the caller's point of view. */
  public enum Kind {
    /** the request names something that does not exist */
    NOT_FOUND,
    /** the request is malformed or names a value outside what is allowed */
    INVALID,
    /** the request is valid but conflicts with the current state */
    CONFLICT,
    /** a resource (memory, disk space) is short */
    INSUFFICIENT,
    /** the request carries no valid cluster token */
    UNAUTHORIZED,
    /** the request body is larger than the API accepts */
    TOO_LARGE,
    /** a process or peer this host depends on failed or did not answer */
    UNAVAILABLE,
    /** a bug or an unexpected condition on this host */
    INTERNAL
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

  public Kind kind() {
    return kind;
  }

  /** The offending field of bad input, or null. */
  public String field() {
    return field;
  }

  /** The offending value of bad input, or null. */
  public String value() {
    return value;
  }

  /** What the field allows, or null. */
  public String allowed() {
    return allowed;
  }
}
