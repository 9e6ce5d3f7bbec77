package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * An error response, {@code application/problem+json} (RFC 9457). For bad input {@code field},
 * {@code value} and {@code allowed} say exactly what to change.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String field, String value, String allowed) {

  public static final String MEDIA_TYPE = "application/problem+json";

  public static Problem of(int status, String title, String detail) {
    return new Problem("about:blank", title, status, detail, null, null, null);
  }

  public static Problem badInput(String field, String value, String allowed) {
    return new Problem("about:blank", "invalid input", 400,
        field + " '" + value + "' is not valid: " + allowed, field, value, allowed);
  }
}
