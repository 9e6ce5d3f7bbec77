package dev.ferry.api.rules;

/**
 * A request broke one of the rules in {@link MigrationRules}. It names the field (in the caller's
 * {@link Spelling}), the value given and what is allowed; each layer turns it into its own error
 * (a 400 problem on the controller, a usage error in the CLI).
 */
public final class RuleViolation extends IllegalArgumentException {

  private final String field;
  private final String value;
  private final String allowed;

  RuleViolation(String field, Object value, String allowed, String message) {
    super(message);
    this.field = field;
    this.value = String.valueOf(value);
    this.allowed = allowed;
  }

  /** The usual message: {@code field 'value' is not valid: allowed}. */
  RuleViolation(String field, Object value, String allowed) {
    this(field, value, allowed, field + " '" + value + "' is not valid: " + allowed);
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
