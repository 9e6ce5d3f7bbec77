package dev.ferry.qmp.qapi;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpProtocolException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * Reads required members of QMP objects, failing with {@link IllegalArgumentException} that names
 * the member; callers turn that into a {@link QmpProtocolException}.
 */
public final class Members {

  private Members() {}

  public static JsonNode object(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isObject()) {
      throw missing(name, "an object");
    }
    return member;
  }

  public static String text(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isTextual()) {
      throw missing(name, "a string");
    }
    return member.asText();
  }

  public static boolean bool(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isBoolean()) {
      throw missing(name, "a boolean");
    }
    return member.asBoolean();
  }

  public static long integer64(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isIntegralNumber() || !member.canConvertToLong()) {
      throw missing(name, "a 64-bit integer");
    }
    return member.asLong();
  }

  public static int integer(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isIntegralNumber() || !member.canConvertToInt()) {
      throw missing(name, "an integer");
    }
    return member.asInt();
  }

  /** An optional string member: empty when absent or JSON null, an error when of another type. */
  public static Optional<String> optionalText(JsonNode node, String name) {
    return absent(node, name) ? Optional.empty() : Optional.of(text(node, name));
  }

  public static Optional<Boolean> optionalBool(JsonNode node, String name) {
    return absent(node, name) ? Optional.empty() : Optional.of(bool(node, name));
  }

  public static OptionalLong optionalInteger64(JsonNode node, String name) {
    return absent(node, name) ? OptionalLong.empty() : OptionalLong.of(integer64(node, name));
  }

  /** A number that may be integral or not (QEMU writes {@code mbps} as a double). */
  public static OptionalDouble optionalNumber(JsonNode node, String name) {
    if (absent(node, name)) {
      return OptionalDouble.empty();
    }
    JsonNode member = node.get(name);
    if (!member.isNumber()) {
      throw missing(name, "a number");
    }
    return OptionalDouble.of(member.asDouble());
  }

  public static Optional<JsonNode> optionalObject(JsonNode node, String name) {
    return absent(node, name) ? Optional.empty() : Optional.of(object(node, name));
  }

  /** Each element of {@code array}, a JSON array such as a query command's return, parsed. */
  public static <T> List<T> list(JsonNode array, String what, Function<JsonNode, T> element) {
    if (array == null || !array.isArray()) {
      throw new IllegalArgumentException(what + " is not an array");
    }
    List<T> result = new ArrayList<>(array.size());
    for (JsonNode item : array) {
      result.add(element.apply(item));
    }
    return List.copyOf(result);
  }

  /** An optional array member, parsed; empty when absent. */
  public static <T> List<T> optionalList(JsonNode node, String name, Function<JsonNode, T> element) {
    return absent(node, name) ? List.of() : list(node.get(name), "member '" + name + "'", element);
  }

  private static boolean absent(JsonNode node, String name) {
    JsonNode member = node.get(name);
    return member == null || member.isNull();
  }

  private static IllegalArgumentException missing(String name, String type) {
    return new IllegalArgumentException("member '%s' missing or not %s".formatted(name, type));
  }
}
