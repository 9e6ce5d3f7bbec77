package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/** {@code query-migrate-parameters}: the current migration parameters. */
public record QueryMigrateParameters()
    implements QmpCommand<QueryMigrateParameters.MigrationParameters> {

  @Override
  public String name() {
    return "query-migrate-parameters";
  }

  @Override
  public MigrationParameters parse(JsonNode ret) {
    if (!ret.isObject()) {
      throw new IllegalArgumentException("query-migrate-parameters return is not an object");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    ret.properties().forEach(e -> {
      JsonNode v = e.getValue();
      Object value = v.isIntegralNumber() ? (Object) v.asLong()
          : v.isNumber() ? (Object) v.asDouble()
          : v.isBoolean() ? (Object) v.asBoolean()
          : v.isTextual() ? v.asText()
          : v.toString();
      values.put(e.getKey(), value);
    });
    return new MigrationParameters(Collections.unmodifiableMap(values));
  }

  /**
   * QAPI {@code MigrationParameters}: every member QEMU returned, by its dashed name, as a
   * {@link Long}, {@link Double}, {@link Boolean} or {@link String} (other JSON as its text),
   * with typed accessors for the ones Ferry tunes.
   *
   * @param values the members in QEMU's order
   */
  public record MigrationParameters(Map<String, Object> values) {

    public MigrationParameters {
      values = ArgumentMap.orderedCopy(values, "values");
    }

    /** An integer parameter, e.g. {@code max-bandwidth}; empty when absent or not an integer. */
    public OptionalLong integer(String name) {
      return values.get(name) instanceof Long value ? OptionalLong.of(value)
          : OptionalLong.empty();
    }

    /** {@code max-bandwidth}, bytes per second. */
    public OptionalLong maxBandwidth() {
      return integer("max-bandwidth");
    }

    /** {@code downtime-limit}, milliseconds. */
    public OptionalLong downtimeLimit() {
      return integer("downtime-limit");
    }

    /** {@code multifd-channels}. */
    public OptionalLong multifdChannels() {
      return integer("multifd-channels");
    }

    /** {@code xbzrle-cache-size}, bytes. */
    public OptionalLong xbzrleCacheSize() {
      return integer("xbzrle-cache-size");
    }
  }
}
