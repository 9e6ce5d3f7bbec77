package dev.ferry.api.rules;

import java.util.Map;

/**
 * How a message names a request field: as the JSON spells it ({@code target_pool}) for the REST
 * API, or as the option the user typed ({@code --target-pool}) for the CLI, so that one rule
 * speaks to both in their own words.
 */
public enum Spelling {
  /** the JSON field names of the REST API */
  API,
  /** the {@code ferry} command-line options */
  CLI;

  /** Options whose name is not the JSON field's with dashes. */
  private static final Map<String, String> OPTIONS = Map.of(
      "max_downtime_ms", "max-downtime",
      "bandwidth_mib_s", "bandwidth",
      "timeout_ms", "timeout");

  /** The subject of a message about the field's value: {@code timeout_ms} or {@code timeout}. */
  public String field(String json) {
    return switch (this) {
      case API -> json;
      case CLI -> OPTIONS.getOrDefault(json, json.replace('_', '-'));
    };
  }

  /** A reference to the field from a message about another: {@code multifd} or {@code --multifd}. */
  public String ref(String json) {
    return switch (this) {
      case API -> json;
      case CLI -> "--" + field(json);
    };
  }
}
