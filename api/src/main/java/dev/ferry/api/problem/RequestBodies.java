package dev.ferry.api.problem;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Reads request bodies for both the agent's and the controller's API: at most
 * {@link ApiPaths#MAX_BODY_BYTES} (by the declared length and, for bodies that lie or are chunked,
 * by reading at most one byte more), and Jackson's complaints turned into {@link BadBody} naming the
 * field in API spelling ({@code disks[0].size_bytes}), the value and what is allowed.
 */
public final class RequestBodies {

  private RequestBodies() {}

  /**
   * For a before-request hook: a declared length over the limit is refused before any handler
   * runs, after draining what the client is sending so that it reads the 413 instead of a reset.
   *
   * @param declared the Content-Length, -1 when not declared
   */
  public static void refuseOversized(long declared, Body body) {
    if (declared <= ApiPaths.MAX_BODY_BYTES) return;
    try {
      ApiPaths.drain(body.open());
    } catch (IOException e) {
      // nothing left to drain: the 413 is what matters
    }
    throw tooLarge(declared);
  }

  /** The request's body stream, opened only when it has to be drained. */
  @FunctionalInterface
  public interface Body {
    InputStream open() throws IOException;
  }

  /** Reads and parses a JSON document of {@code type}; an empty body or a JSON null is refused. */
  public static <T> T read(InputStream in, long declared, Class<T> type) {
    if (declared > ApiPaths.MAX_BODY_BYTES) throw tooLarge(declared);
    byte[] bytes;
    try (in) {
      bytes = in.readNBytes(ApiPaths.MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      throw BadBody.invalid("body", "", "a complete JSON object", "request body could not be read: " + e.getMessage(), e);
    }
    if (bytes.length > ApiPaths.MAX_BODY_BYTES) throw tooLarge(bytes.length);
    if (bytes.length == 0) {
      throw BadBody.invalid("body", "", "a JSON object", "request body is empty; expected a JSON object", null);
    }
    try {
      T value = Json.mapper().readValue(bytes, type);
      if (value == null) throw BadBody.invalid("body", "null", "a JSON object");
      return value;
    } catch (JsonProcessingException e) {
      throw translate(e);
    } catch (IOException e) {
      throw BadBody.invalid("body", "", "a JSON object", "request body could not be read: " + e.getMessage(), e);
    }
  }

  static BadBody tooLarge(long size) {
    return BadBody.tooLarge("request body of " + size + " bytes is larger than the limit of " + ApiPaths.MAX_BODY_BYTES
        + " bytes");
  }

  static BadBody translate(JsonProcessingException e) {
    String field = e instanceof DatabindException d ? path(d) : "";
    return switch (e) {
      case UnrecognizedPropertyException u -> BadBody.invalid(field, u.getPropertyName(),
          "known fields: " + known(u.getKnownPropertyIds()),
          "unknown field '" + field + "' (known fields: " + known(u.getKnownPropertyIds()) + ")", e);
      case InvalidFormatException f -> BadBody.invalid(field, f.getValue(), expected(f.getTargetType()),
          "field '" + field + "' has value '" + f.getValue() + "' but must be " + expected(f.getTargetType()), e);
      case ValueInstantiationException v -> BadBody.invalid(field.isEmpty() ? "body" : field, "", "a valid value",
          "invalid value: " + (v.getCause() == null ? v.getOriginalMessage() : v.getCause().getMessage()), e);
      case MismatchedInputException m when field.isEmpty() -> BadBody.invalid("body", "", "a JSON object",
          "request body must be a JSON object: " + oneLine(m.getOriginalMessage()), e);
      case MismatchedInputException m -> BadBody.invalid(field, "", expected(m.getTargetType()),
          "field '" + field + "' must be " + expected(m.getTargetType()), e);
      case JsonParseException p -> BadBody.invalid("body", "", "well-formed JSON",
          "malformed JSON at line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr()
              + ": " + oneLine(p.getOriginalMessage()), e);
      case JsonMappingException m -> BadBody.invalid(field.isEmpty() ? "body" : field, "", "a valid value",
          "invalid value" + (field.isEmpty() ? "" : " in field '" + field + "'") + ": " + oneLine(m.getOriginalMessage()), e);
      default -> BadBody.invalid("body", "", "well-formed JSON", "malformed JSON: " + oneLine(e.getOriginalMessage()), e);
    };
  }

  /** {@code disks[0].size_bytes} from Jackson's reference path (names are already snake_case). */
  private static String path(DatabindException e) {
    StringBuilder sb = new StringBuilder();
    if (!(e instanceof JsonMappingException m)) return "";
    for (JsonMappingException.Reference ref : m.getPath()) {
      if (ref.getFieldName() != null) {
        if (!sb.isEmpty()) sb.append('.');
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.toString();
  }

  private static String expected(Class<?> type) {
    if (type == null) return "a valid value";
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "an integer";
    if (type == boolean.class || type == Boolean.class) return "true or false";
    if (type == String.class) return "a string";
    if (type.isEnum()) {
      return "one of " + Arrays.stream(type.getEnumConstants())
          .map(c -> c.toString().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    }
    if (Collection.class.isAssignableFrom(type)) return "a JSON array";
    return "a JSON object";
  }

  private static String known(Collection<Object> ids) {
    return ids.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
  }

  private static String oneLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
