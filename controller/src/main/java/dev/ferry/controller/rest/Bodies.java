package dev.ferry.controller.rest;

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
import dev.ferry.controller.ControllerException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.stream.Collectors;

/**
 * Reads request bodies: refuses more than {@link ApiPaths#MAX_BODY_BYTES} (by Content-Length
 * and, for bodies that lie or are chunked, by actually reading at most one byte more), and turns
 * Jackson's complaints into 400s naming the field in API spelling ({@code disks[0].size_bytes}).
 */
final class Bodies {

  private Bodies() {}

  static ControllerException tooLarge(long size) {
    return new ControllerException(ControllerException.Kind.TOO_LARGE, "request body of " + size
        + " bytes is larger than the limit of " + ApiPaths.MAX_BODY_BYTES + " bytes");
  }

  static <T> T read(Context ctx, Class<T> type) {
    long declared = ctx.req().getContentLengthLong();
    if (declared > ApiPaths.MAX_BODY_BYTES) throw tooLarge(declared);
    byte[] bytes;
    try (InputStream in = ctx.req().getInputStream()) {
      bytes = in.readNBytes(ApiPaths.MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      throw ControllerException.invalid("body", "", "a complete JSON object",
          "request body could not be read: " + e.getMessage());
    }
    if (bytes.length > ApiPaths.MAX_BODY_BYTES) throw tooLarge(bytes.length);
    if (bytes.length == 0) {
      throw ControllerException.invalid("body", "", "a JSON object", "request body is empty; expected a JSON object");
    }
    try {
      T value = Json.mapper().readValue(bytes, type);
      if (value == null) throw ControllerException.invalid("body", "null", "a JSON object");
      return value;
    } catch (JsonProcessingException e) {
      throw translate(e);
    } catch (IOException e) {
      throw ControllerException.invalid("body", "", "a JSON object", "request body could not be read: " + e.getMessage());
    }
  }

  static ControllerException translate(JsonProcessingException e) {
    String field = e instanceof DatabindException d ? path(d) : "";
    return switch (e) {
      case UnrecognizedPropertyException u -> ControllerException.invalid(field, u.getPropertyName(),
          "known fields: " + known(u.getKnownPropertyIds()),
          "unknown field '" + field + "' (known fields: " + known(u.getKnownPropertyIds()) + ")");
      case InvalidFormatException f -> ControllerException.invalid(field, f.getValue(), expected(f.getTargetType()),
          "field '" + field + "' has value '" + f.getValue() + "' but must be " + expected(f.getTargetType()));
      case ValueInstantiationException v -> ControllerException.invalid(field.isEmpty() ? "body" : field, "",
          "a valid value", "invalid value: " + (v.getCause() == null ? v.getOriginalMessage() : v.getCause().getMessage()));
      case MismatchedInputException m when field.isEmpty() -> ControllerException.invalid("body", "",
          "a JSON object", "request body must be a JSON object: " + oneLine(m.getOriginalMessage()));
      case MismatchedInputException m -> ControllerException.invalid(field, "", expected(m.getTargetType()),
          "field '" + field + "' must be " + expected(m.getTargetType()));
      case JsonParseException p -> ControllerException.invalid("body", "", "well-formed JSON",
          "malformed JSON at line " + p.getLocation().getLineNr() + ", column " + p.getLocation().getColumnNr()
              + ": " + oneLine(p.getOriginalMessage()));
      case JsonMappingException m -> ControllerException.invalid(field.isEmpty() ? "body" : field, "",
          "a valid value", "invalid value" + (field.isEmpty() ? "" : " in field '" + field + "'") + ": "
              + oneLine(m.getOriginalMessage()));
      default -> ControllerException.invalid("body", "", "well-formed JSON", "malformed JSON: " + oneLine(e.getOriginalMessage()));
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
      return "one of " + java.util.Arrays.stream(type.getEnumConstants())
          .map(c -> c.toString().toLowerCase(java.util.Locale.ROOT)).collect(Collectors.joining(", "));
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
