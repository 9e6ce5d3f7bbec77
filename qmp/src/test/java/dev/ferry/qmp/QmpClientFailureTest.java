package dev.ferry.qmp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the client does when the peer breaks the protocol or goes away. */
class QmpClientFailureTest {

  /** Far longer than any assertion waits: a call that fails must fail for its own reason. */
  private static final Duration LONG = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(2);

  @TempDir
  Path dir;

  private FakeQmpServer qemu;
  private QmpClient client;

  private void connect(QmpOptions options) throws Exception {
    qemu = FakeQmpServer.start(dir);
    client = QmpClient.connect(qemu.socket(), Duration.ofSeconds(5), options);
  }

  @AfterEach
  void close() throws Exception {
    client.close();
    qemu.close();
  }

  @Test
  void reader_malformedJson_failsThePendingCallWithProtocolExceptionAndCloses() throws Exception {
    connect(QmpOptions.defaults());
    qemu.expect("query-status").hold();
    qemu.sendRaw("{\"return\": {]");

    assertThatThrownBy(() -> client.call("query-status", Map.of(), LONG))
        .isInstanceOfSatisfying(QmpProtocolException.class, e -> {
          assertThat(e).hasMessageStartingWith("qmp connection to %s failed while 'query-status' "
              .formatted(qemu.socket()) + "was pending: malformed qmp message from ");
          assertThat(e.excerpt()).isEqualTo("{\"return\": {]");
        });
    assertThat(client.isOpen()).isFalse();
    assertThatThrownBy(() -> client.call("query-kvm"))
        .isInstanceOf(QmpConnectionException.class)
        .hasCauseInstanceOf(QmpProtocolException.class);
  }

  @Test
  void reader_lineOverTheReadLimit_failsWithProtocolException() throws Exception {
    connect(QmpOptions.defaults().withMaxLineLength(1024));
    qemu.expect("query-qmp-schema").hold();
    qemu.sendRaw("{\"return\": \"" + "x".repeat(2000) + "\", \"id\": 2}");

    assertThatThrownBy(() -> client.call("query-qmp-schema", Map.of(), LONG))
        .isInstanceOfSatisfying(QmpProtocolException.class, e -> {
          assertThat(e).hasMessageContaining(
              "qmp message from %s exceeds the read limit of 1024 bytes", qemu.socket());
          assertThat(e.excerpt()).startsWith("{\"return\": \"xxx").endsWith("...");
        });
    assertThat(client.isOpen()).isFalse();
  }

  /**
   * The read limit holds before the newline: a peer that streams bytes and never ends the line
   * must not make the client buffer them all.
   */
  @Test
  void reader_unterminatedLineOverTheLimit_failsWithoutWaitingForTheNewline() throws Exception {
    connect(QmpOptions.defaults().withMaxLineLength(1024));
    qemu.expect("query-status").hold();
    qemu.sendUnterminated("{\"return\": \"" + "x".repeat(4096));

    CompletableFuture<JsonNode> status = client.send("query-status", Map.of(), LONG);

    assertThat(status).failsWithin(PROMPTLY).withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(QmpProtocolException.class)
        .withMessageContaining("exceeds the read limit of 1024 bytes");
  }

  @Test
  void reader_jsonThatIsNotAnObject_failsWithProtocolException() throws Exception {
    connect(QmpOptions.defaults());
    qemu.expect("query-status").hold();
    qemu.sendRaw("[\"return\", {}]");

    assertThatThrownBy(() -> client.call("query-status", Map.of(), LONG))
        .isInstanceOf(QmpProtocolException.class)
        .hasMessageContaining("unexpected qmp message from %s: not a json object", qemu.socket());
  }

  @Test
  void reader_serverHangsUpMidCall_failsTheCallPromptlyWithConnectionException()
      throws Exception {
    connect(QmpOptions.defaults());
    qemu.expect("query-status").hold();
    qemu.disconnect();

    CompletableFuture<JsonNode> status = client.send("query-status", Map.of(), LONG);

    assertThat(status).failsWithin(PROMPTLY).withThrowableOfType(ExecutionException.class)
        .havingCause().isInstanceOf(QmpConnectionException.class)
        .withMessage("qmp connection to %s closed while 'query-status' was pending: end of stream",
            qemu.socket());
    assertThat(client.isOpen()).isFalse();
    assertThat(client.send("query-status", Map.of(), LONG)).isCompletedExceptionally();
  }

  @Test
  void reader_serverHangsUpInsideAMessage_saysSo() throws Exception {
    connect(QmpOptions.defaults());
    qemu.expect("query-status").hold();
    qemu.sendUnterminated("{\"return\": {\"sta");
    qemu.disconnect();

    assertThatThrownBy(() -> client.call("query-status", Map.of(), LONG))
        .isInstanceOf(QmpConnectionException.class)
        .hasMessageEndingWith("end of stream inside a message");
  }
}
