package dev.ferry.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import java.io.IOException;
import java.io.InputStream;
import java.util.stream.Collectors;

/**
 * Reads request bodies: at most {@link ApiPaths#MAX_BODY_BYTES}, refused before parsing when
 * larger, and parse errors turned into bad input that names the JSON field.
 */
final class Bodies {

  private Bodies() {}

  /** Throws TOO_LARGE when the declared length is over the limit; -1 means not declared. */
  static void checkDeclaredLength(long contentLength) {
    if (contentLength > ApiPaths.MAX_BODY_BYTES) throw tooLarge(contentLength);
  }

  static <T> T read(InputStream in, Class<T> type) {
    byte[] bytes;
    try {
      bytes = in.readNBytes(ApiPaths.MAX_BODY_BYTES + 1);
    } catch (IOException e) {
      throw new AgentException(Kind.INVALID, "cannot read the request body: " + e.getMessage(), e);
    }
    if (bytes.length > ApiPaths.MAX_BODY_BYTES) throw tooLarge(-1);
    if (bytes.length == 0) throw AgentException.badInput("body", "", "a JSON document");
    return parse(bytes, type);
  }

  static <T> T parse(byte[] bytes, Class<T> type) {
    try {
      return Json.mapper().readValue(bytes, type);
    } catch (UnrecognizedPropertyException e) {
      String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
          .map(Object::toString).sorted().collect(Collectors.joining(", "));
      throw AgentException.badInput(path(e), e.getPropertyName(), "no such field; known fields: " + known);
    } catch (InvalidFormatException e) {
      throw AgentException.badInput(path(e), String.valueOf(e.getValue()),
          "a value of type " + e.getTargetType().getSimpleName().toLowerCase(java.util.Locale.ROOT));
    } catch (MismatchedInputException e) {
      String field = path(e);
      String typeName = e.getTargetType() == null ? "the declared type" : e.getTargetType().getSimpleName().toLowerCase(java.util.Locale.ROOT);
      throw AgentException.badInput(field, "", "a value of type " + typeName
          + (String.valueOf(e.getOriginalMessage()).contains("null") ? " (the field is required)" : ""));
    } catch (JsonMappingException e) {
      String field = e.getPath().isEmpty() ? "body" : path(e);
      throw AgentException.badInput(field, "", "valid JSON for " + field + " (" + e.getOriginalMessage() + ")");
    } catch (JsonProcessingException e) {
      throw AgentException.badInput("body", "", "well-formed JSON (" + e.getOriginalMessage() + ")");
    } catch (IOException e) {
      throw new AgentException(Kind.INVALID, "cannot read the request body: " + e.getMessage(), e);
    }
  }

  /** The JSON path of a mapping error in the request's own spelling, e.g. {@code disks[0].path}. */
  static String path(JsonMappingException e) {
    var sb = new StringBuilder();
    for (JsonMappingException.Reference ref : e.getPath()) {
      if (ref.getFieldName() != null) {
        if (!sb.isEmpty()) sb.append('.');
        sb.append(ref.getFieldName());
      } else if (ref.getIndex() >= 0) {
        sb.append('[').append(ref.getIndex()).append(']');
      }
    }
    return sb.isEmpty() ? "body" : sb.toString();
  }

  private static AgentException tooLarge(long length) {
    return new AgentException(Kind.TOO_LARGE, "request body " + (length >= 0 ? "of " + length + " bytes " : "")
        + "is larger than the limit of " + ApiPaths.MAX_BODY_BYTES + " bytes");
  }
}
