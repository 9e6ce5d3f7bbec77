package dev.ferry.cli;

import dev.ferry.api.Problem;

/**
 * The one exception root of the CLI layer. The {@link Kind} alone decides the exit code (see
 * {@link Cli#exitCodeFor}); the message is printed as {@code ferry: <message>}, so it is one
 * lower-case line with the context needed to act on it.
 */
public final class CliException extends RuntimeException {

  /** Why a command failed; each kind maps to one exit code in {@link Cli#exitCodeFor}. */
  public enum Kind {
    /** a bad value noticed before any request was sent (exit 2) */
    USAGE,
    /** no controller URL or token could be found (exit 1) */
    CONFIG,
    /** the controller (or a local component) could not be reached in time (exit 1) */
    UNREACHABLE,
    /** the API answered with a problem (exit 1) */
    API,
    /** something on this machine failed: files, processes, ports (exit 1) */
    LOCAL,
    /** the requests went through but what they started ended badly, e.g. a failed migration (exit 1) */
    OUTCOME
  }

  private final Kind kind;
  private final Problem problem;

  public CliException(Kind kind, String message) {
    this(kind, message, null, null);
  }

  public CliException(Kind kind, String message, Throwable cause) {
    this(kind, message, null, cause);
  }

  public CliException(Kind kind, String message, Problem problem, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.problem = problem;
  }

  public Kind kind() {
    return kind;
  }

  /** The problem the API answered with, or null when the failure did not come from the API. */
  public Problem problem() {
    return problem;
  }

  /** HTTP status of the API's answer, or 0 when there was none. */
  public int status() {
    return problem == null ? 0 : problem.status();
  }

  public static CliException usage(String message) {
    return new CliException(Kind.USAGE, message);
  }

  public static CliException local(String message, Throwable cause) {
    return new CliException(Kind.LOCAL, message, cause);
  }
}
