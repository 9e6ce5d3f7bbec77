package dev.ferry.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.ferry.qmp.qapi.Members;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Turns commands into wire lines and wire lines into {@link QmpMessage}s.
 *
 * <p>QEMU writes each message as one line of compact JSON (only the {@code pretty=on} monitor
 * option, which Ferry never sets, spreads one over several lines), so the client frames by
 * newline and parses each line on its own.
 */
final class QmpCodec {

  private static final int EXCERPT_LENGTH = 120;

  static final JsonMapper MAPPER = JsonMapper.builder()
      // one line holds exactly one message: "{} {" is as broken as "{"
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      // Jackson writes a Path as a file:// URI by default; QEMU wants the plain path
      .addModule(new SimpleModule("qmp-arguments").addSerializer(Path.class,
          ToStringSerializer.instance))
      .build();

  private QmpCodec() {}

  /**
   * The line sent for a command: {@code {"execute":NAME,"arguments":{...},"id":ID}} and a newline;
   * no {@code arguments} member when there are none.
   *
   * @throws IllegalArgumentException if an argument cannot be written as JSON
   */
  static byte[] encodeCommand(long id, String command, Map<String, ?> arguments) {
    ObjectNode message = MAPPER.createObjectNode();
    message.put("execute", command);
    if (!arguments.isEmpty()) {
      message.set("arguments", MAPPER.valueToTree(arguments));
    }
    message.put("id", id);
    try {
      byte[] json = MAPPER.writeValueAsBytes(message);
      byte[] line = Arrays.copyOf(json, json.length + 1);
      line[json.length] = '\n';
      return line;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot write arguments of qmp command '%s' as json".formatted(command), e);
    }
  }

  /** Parses one line (without its newline) received from {@code socket}. */
  static QmpMessage decode(Path socket, byte[] line) throws QmpProtocolException {
    JsonNode node;
    try {
      node = MAPPER.readTree(line);
    } catch (IOException e) {
      throw QmpProtocolException.malformed(socket, line, e);
    }
    if (node == null || !node.isObject()) {
      throw QmpProtocolException.unexpected(socket, "not a json object", line);
    }
    try {
      if (node.has("QMP")) {
        return new QmpMessage.Greeting(QmpGreeting.parse(Members.object(node, "QMP")));
      }
      if (node.has("event")) {
        return new QmpMessage.Event(event(node));
      }
      if (node.has("return")) {
        return new QmpMessage.SuccessResponse(id(node), node.get("return"));
      }
      if (node.has("error")) {
        JsonNode error = Members.object(node, "error");
        return new QmpMessage.ErrorResponse(id(node), Members.text(error, "class"),
            Members.text(error, "desc"));
      }
      return new QmpMessage.Unknown(node);
    } catch (IllegalArgumentException e) {
      throw QmpProtocolException.unexpected(socket, e.getMessage(), line);
    }
  }

  private static QmpEvent event(JsonNode node) {
    JsonNode data = node.get("data");
    if (data == null) {
      data = MAPPER.createObjectNode();
    }
    // QEMU always stamps events; the receive time is the best stand-in if one ever is not
    Instant timestamp = Instant.now();
    JsonNode stamp = node.get("timestamp");
    if (stamp != null && stamp.isObject()) {
      timestamp = Instant.ofEpochSecond(Members.integer64(stamp, "seconds"),
          Members.integer64(stamp, "microseconds") * 1_000);
    }
    return new QmpEvent(Members.text(node, "event"), data, timestamp);
  }

  /** Ferry sends ids as JSON integers and QEMU echoes them verbatim; anything else is not ours. */
  private static OptionalLong id(JsonNode node) {
    JsonNode id = node.get("id");
    return id != null && id.isIntegralNumber() && id.canConvertToLong()
        ? OptionalLong.of(id.asLong())
        : OptionalLong.empty();
  }

  static String excerpt(JsonNode node) {
    return excerpt(node.toString().getBytes(StandardCharsets.UTF_8));
  }

  /** The first {@value #EXCERPT_LENGTH} characters of {@code bytes}, control characters escaped. */
  static String excerpt(byte[] bytes) {
    String text = new String(bytes, 0, Math.min(bytes.length, EXCERPT_LENGTH * 4),
        StandardCharsets.UTF_8);
    StringBuilder excerpt = new StringBuilder();
    for (int i = 0; i < text.length() && excerpt.length() < EXCERPT_LENGTH; i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c)) {
        excerpt.append("\\u%04x".formatted((int) c));
      } else {
        excerpt.append(c);
      }
    }
    if (excerpt.length() >= EXCERPT_LENGTH && bytes.length > EXCERPT_LENGTH) {
      excerpt.append("...");
    }
    return excerpt.toString();
  }

  static String text(byte[] line) {
    return new String(line, StandardCharsets.UTF_8);
  }
}
