package dev.ferry.qmp;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Golden bytes out, every message kind in. */
class QmpCodecTest {

  private static final Path SOCKET = Path.of("/run/ferry/vm1/qmp.sock");

  private static String encode(long id, String command, Map<String, ?> arguments) {
    return new String(QmpCodec.encodeCommand(id, command, arguments), UTF_8);
  }

  private static QmpMessage decode(String line) {
    return QmpCodec.decode(SOCKET, line.getBytes(UTF_8));
  }

  @Test
  void encode_commandWithArguments_isOneCompactLine() {
    assertThat(encode(7, "migrate", Map.of("uri", "tcp:10.0.0.2:4444")))
        .isEqualTo("{\"execute\":\"migrate\","
            + "\"arguments\":{\"uri\":\"tcp:10.0.0.2:4444\"},\"id\":7}\n");
  }

  @Test
  void encode_commandWithoutArguments_hasNoArgumentsMember() {
    assertThat(QmpCodec.encodeCommand(1, "query-status", Map.of()))
        .isEqualTo("{\"execute\":\"query-status\",\"id\":1}\n".getBytes(UTF_8));
  }

  @Test
  void encode_nestedArgumentsAndAPath_writeThePathAsAPlainString() {
    Map<String, Object> file = new LinkedHashMap<>();
    file.put("driver", "file");
    file.put("filename", Path.of("/var/lib/ferry/vm1/disk0.qcow2"));
    Map<String, Object> arguments = new LinkedHashMap<>();
    arguments.put("driver", "qcow2");
    arguments.put("node-name", "tgt0");
    arguments.put("read-only", false);
    arguments.put("file", file);
    arguments.put("bitmaps", List.of("bm0"));

    assertThat(encode(42, "blockdev-add", arguments)).isEqualTo("{\"execute\":\"blockdev-add\","
        + "\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"tgt0\",\"read-only\":false,"
        + "\"file\":{\"driver\":\"file\",\"filename\":\"/var/lib/ferry/vm1/disk0.qcow2\"},"
        + "\"bitmaps\":[\"bm0\"]},\"id\":42}\n");
  }

  @Test
  void decode_greeting_readsVersionAndCapabilities() {
    assertThat(decode(FakeQmpServer.GREETING)).isEqualTo(new QmpMessage.Greeting(new QmpGreeting(
        new VersionInfo(7, 2, 22, "Debian 1:7.2+dfsg-7+deb12u18+b3"), List.of("oob"))));
  }

  @Test
  void decode_successResponse_keepsIdAndReturnValue() {
    QmpMessage message = decode("{\"return\": {\"status\": \"running\"}, \"id\": 12}");

    assertThat(message).isInstanceOfSatisfying(QmpMessage.SuccessResponse.class, reply -> {
      assertThat(reply.id()).isEqualTo(OptionalLong.of(12));
      assertThat(reply.value().path("status").asText()).isEqualTo("running");
    });
  }

  @Test
  void decode_errorResponse_keepsClassAndDesc() {
    assertThat(decode("{\"id\": 3, \"error\": {\"class\": \"CommandNotFound\", "
        + "\"desc\": \"The command foo has not been found\"}}"))
        .isEqualTo(new QmpMessage.ErrorResponse(OptionalLong.of(3), "CommandNotFound",
            "The command foo has not been found"));
  }

  @Test
  void decode_responseWithForeignId_hasNoId() {
    assertThat(decode("{\"return\": {}, \"id\": \"libvirt-12\"}"))
        .isInstanceOfSatisfying(QmpMessage.SuccessResponse.class,
            reply -> assertThat(reply.id()).isEmpty());
  }

  @Test
  void decode_event_readsNameDataAndMicrosecondTimestamp() {
    QmpMessage message = decode("{\"timestamp\": {\"seconds\": 1764000000, \"microseconds\": 5}, "
        + "\"event\": \"BLOCK_JOB_READY\", \"data\": {\"device\": \"mirror0\"}}");

    assertThat(message).isInstanceOfSatisfying(QmpMessage.Event.class, event -> {
      assertThat(event.event().name()).isEqualTo("BLOCK_JOB_READY");
      assertThat(event.event().data().path("device").asText()).isEqualTo("mirror0");
      assertThat(event.event().timestamp()).isEqualTo(Instant.ofEpochSecond(1764000000, 5_000));
    });
  }

  @Test
  void decode_objectOfUnknownKind_isUnknownNotFatal() {
    assertThat(decode("{\"hello\": 1}")).isInstanceOf(QmpMessage.Unknown.class);
  }

  @Test
  void decode_trailingGarbage_isMalformed() {
    assertThatThrownBy(() -> decode("{\"return\": {}} {"))
        .isInstanceOf(QmpProtocolException.class)
        .hasMessageStartingWith("malformed qmp message from " + SOCKET);
  }

  @Test
  void decode_errorWithoutDesc_isUnexpected() {
    assertThatThrownBy(() -> decode("{\"error\": {\"class\": \"GenericError\"}, \"id\": 1}"))
        .isInstanceOf(QmpProtocolException.class)
        .hasMessageStartingWith("unexpected qmp message from " + SOCKET
            + ": member 'desc' missing or not a string");
  }

  @Test
  void excerpt_longLineWithControlCharacters_isCutAndEscaped() {
    String excerpt = QmpCodec.excerpt(("a\tb" + "x".repeat(500)).getBytes(UTF_8));

    assertThat(excerpt).startsWith("a\\u0009bxxx").endsWith("...").hasSize(123);
  }
}
