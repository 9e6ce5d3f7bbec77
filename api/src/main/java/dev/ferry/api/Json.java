package dev.ferry.api;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.EnumFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The one JSON dialect of Ferry's APIs: snake_case fields, lower-case enum values, ISO-8601
 * times. Scripts depend on these names; change them only by adding.
 */
public final class Json {

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .addModule(new JavaTimeModule())
      .configure(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS, false)
      .configure(EnumFeature.WRITE_ENUMS_TO_LOWERCASE, true)
      .configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS, true)
      // an unknown field is a client error worth naming, not something to drop silently
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
      .build();

  // what another Ferry process answers may come from a newer release, which only ever adds fields
  // (and values: an enum with a @JsonEnumDefaultValue reads a value it does not know as that one)
  private static final ObjectMapper ANSWERS = MAPPER.copy()
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
      .configure(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_USING_DEFAULT_VALUE, true);

  private Json() {}

  /** For reading answers of another Ferry process (agent, controller): fields this release does not know are skipped. */
  public static ObjectMapper answers() {
    return ANSWERS;
  }

  public static ObjectMapper mapper() {
    return MAPPER;
  }
}
