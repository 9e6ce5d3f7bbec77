package dev.ferry.api.problem;

/**
 * A request body {@link RequestBodies} refused: too large, or not the JSON document expected. It
 * names the field (in the API's spelling, {@code disks[0].size_bytes}, or {@code body}), the value
 * and what is allowed; each layer turns it into its own exception root at its API edge.
 */
public final class BadBody extends RuntimeException {

  private final boolean tooLarge;
  private final String field;
  private final String value;
  private final String allowed;

  private BadBody(boolean tooLarge, String message, String field, String value, String allowed, Throwable cause) {
    super(message, cause);
    this.tooLarge = tooLarge;
    this.field = field;
    this.value = value;
    this.allowed = allowed;
  }

  static BadBody tooLarge(String message) {
    return new BadBody(true, message, null, null, null, null);
  }

  static BadBody invalid(String field, Object value, String allowed, String message, Throwable cause) {
    return new BadBody(false, message, field, String.valueOf(value), allowed, cause);
  }

  static BadBody invalid(String field, Object value, String allowed) {
    return invalid(field, value, allowed, field + " '" + value + "' is not valid: " + allowed, null);
  }

  /** True when the body is over {@link dev.ferry.api.ApiPaths#MAX_BODY_BYTES} (413), else it is bad input (400). */
  public boolean tooLarge() {
    return tooLarge;
  }

  public String field() {
    return field;
  }

  public String value() {
    return value;
  }

  public String allowed() {
    return allowed;
  }
}
