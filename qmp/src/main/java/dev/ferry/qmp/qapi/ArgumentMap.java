package dev.ferry.qmp.qapi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Builds a command's arguments in a fixed order (the order of the QAPI schema), leaving optional
 * members out when unset so QEMU applies its own default; and checks names at the edge.
 */
public final class ArgumentMap {

  private final Map<String, Object> values = new LinkedHashMap<>();

  public static ArgumentMap create() {
    return new ArgumentMap();
  }

  public ArgumentMap with(String name, Object value) {
    values.put(name, Objects.requireNonNull(value, name));
    return this;
  }

  public ArgumentMap withOptional(String name, Optional<?> value) {
    value.ifPresent(v -> values.put(name, v));
    return this;
  }

  public ArgumentMap withOptional(String name, OptionalLong value) {
    value.ifPresent(v -> values.put(name, v));
    return this;
  }

  /** Adds every entry of {@code more}, in its order. */
  public ArgumentMap withAll(Map<String, ?> more) {
    more.forEach(this::with);
    return this;
  }

  /** Adds {@code name} only for a non-empty list. */
  public ArgumentMap withNonEmpty(String name, List<?> value) {
    if (!value.isEmpty()) {
      values.put(name, value);
    }
    return this;
  }

  public Map<String, Object> build() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(values));
  }

  /** An unmodifiable copy that keeps the caller's iteration order. */
  public static <V> Map<String, V> orderedCopy(Map<String, ? extends V> map, String what) {
    Objects.requireNonNull(map, what);
    Map<String, V> copy = new LinkedHashMap<>();
    map.forEach((key, value) -> copy.put(Objects.requireNonNull(key, what + " key"),
        Objects.requireNonNull(value, () -> what + " value of '" + key + "'")));
    return Collections.unmodifiableMap(copy);
  }

  /** A QEMU identifier (node name, job id, export id, bitmap name): non-null, non-blank. */
  public static String requireName(String value, String what) {
    Objects.requireNonNull(value, what);
    if (value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
    return value;
  }

  public static long requireNonNegative(long value, String what) {
    if (value < 0) {
      throw new IllegalArgumentException(what + " must not be negative: " + value);
    }
    return value;
  }

  /** A granularity in bytes: a power of two of at least 512, as QEMU requires. */
  public static long requireGranularity(long value, String what) {
    if (value < 512 || Long.bitCount(value) != 1) {
      throw new IllegalArgumentException(what + " must be a power of two >= 512: " + value);
    }
    return value;
  }
}
