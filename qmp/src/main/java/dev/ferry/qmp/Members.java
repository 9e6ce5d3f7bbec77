package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reads required members of QMP objects, failing with {@link IllegalArgumentException} that names
 * the member; callers turn that into a {@link QmpProtocolException}.
 */
final class Members {

  private Members() {}

  static JsonNode object(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isObject()) {
      throw missing(name, "an object");
    }
    return member;
  }

  static String text(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isTextual()) {
      throw missing(name, "a string");
    }
    return member.asText();
  }

  static boolean bool(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isBoolean()) {
      throw missing(name, "a boolean");
    }
    return member.asBoolean();
  }

  static long integer64(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isIntegralNumber() || !member.canConvertToLong()) {
      throw missing(name, "a 64-bit integer");
    }
    return member.asLong();
  }

  static int integer(JsonNode node, String name) {
    JsonNode member = node.get(name);
    if (member == null || !member.isIntegralNumber() || !member.canConvertToInt()) {
      throw missing(name, "an integer");
    }
    return member.asInt();
  }

  private static IllegalArgumentException missing(String name, String type) {
    return new IllegalArgumentException("member '%s' missing or not %s".formatted(name, type));
  }
}
