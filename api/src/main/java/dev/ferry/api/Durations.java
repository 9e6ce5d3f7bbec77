package dev.ferry.api;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one grammar for durations a user writes, on every command line and in every option that
 * takes one: a whole number with a unit, {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}; ISO-8601
 * ({@code PT10S}) is also understood. A bare number is refused: {@code 10} could be seconds or
 * milliseconds, and the three parsers this replaces disagreed on which.
 */
public final class Durations {

  /** What a duration may look like, for messages and help texts. */
  public static final String RULE = "a whole number with a unit ms, s, m or h, e.g. 500ms, 30s or 5m";

  private static final Pattern SIMPLE = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");
  private static final Pattern BARE = Pattern.compile("\\d+");

  private Durations() {}

  /**
   * Parses {@code text}; zero is allowed, negative durations are not.
   *
   * @param field the option or field the value came from, as the user spelled it, e.g. {@code --timeout}
   * @throws IllegalArgumentException naming the field, the value and the units allowed
   */
  public static Duration parse(String field, String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    if (BARE.matcher(t).matches()) {
      throw invalid(field, text, "a number needs a unit (ms, s, m or h), e.g. " + t + "s or " + t + "ms");
    }
    Duration d = t.startsWith("pt") ? iso(t) : simple(field, text, t);
    if (d == null) throw invalid(field, text, RULE);
    if (d.isNegative()) throw invalid(field, text, "not negative; " + RULE);
    return d;
  }

  /** Like {@link #parse} and more than zero. */
  public static Duration parsePositive(String field, String text) {
    Duration d = parse(field, text);
    if (d.isZero()) throw invalid(field, text, "more than 0; " + RULE);
    return d;
  }

  private static Duration simple(String field, String text, String t) {
    Matcher m = SIMPLE.matcher(t);
    if (!m.matches()) return null;
    try {
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      };
    } catch (ArithmeticException | NumberFormatException e) {
      throw invalid(field, text, "too large for a duration; " + RULE);
    }
  }

  private static Duration iso(String t) {
    try {
      return Duration.parse(t.toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static IllegalArgumentException invalid(String field, String text, String allowed) {
    return new IllegalArgumentException(field + " '" + text + "' is not valid: " + allowed);
  }
}
