package dev.ferry.qmp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * QEMU sent something that is not valid QMP: malformed JSON, a line over the read limit, a
 * message of the wrong shape, or a return value a typed command cannot parse. QMP has no way to
 * resynchronise a stream, so a framing or JSON error closes the connection; an unparseable return
 * value fails only its own call.
 */
public final class QmpProtocolException extends QmpException {

  private final String excerpt;

  private QmpProtocolException(Path socket, String message, String excerpt, Throwable cause) {
    super(socket, message, cause);
    this.excerpt = excerpt;
  }

  static QmpProtocolException malformed(Path socket, byte[] line, IOException cause) {
    String problem = cause instanceof JsonProcessingException json
        ? json.getOriginalMessage() + " at column " + json.getLocation().getColumnNr()
        : cause.getMessage();
    return create(socket, "malformed qmp message from %s: %s".formatted(socket, problem),
        QmpCodec.excerpt(line), cause);
  }

  static QmpProtocolException lineTooLong(Path socket, int limit, byte[] start) {
    return create(socket, "qmp message from %s exceeds the read limit of %d bytes"
        .formatted(socket, limit), QmpCodec.excerpt(start), null);
  }

  static QmpProtocolException unexpected(Path socket, String problem, byte[] line) {
    return create(socket, "unexpected qmp message from %s: %s".formatted(socket, problem),
        QmpCodec.excerpt(line), null);
  }

  static QmpProtocolException unexpectedReturn(Path socket, String command, JsonNode ret,
      RuntimeException cause) {
    return create(socket, "unexpected return from qmp command '%s' on %s: %s"
        .formatted(command, socket, cause.getMessage()), QmpCodec.excerpt(ret), cause);
  }

  /** The same failure, told to one call that was waiting when the connection broke. */
  static QmpProtocolException whilePending(QmpProtocolException failure, String command) {
    String message = "qmp connection to %s failed while '%s' was pending: %s"
        .formatted(failure.socket(), command, failure.getMessage());
    return new QmpProtocolException(failure.socket(), message, failure.excerpt, failure);
  }

  private static QmpProtocolException create(Path socket, String message, String excerpt,
      Throwable cause) {
    return new QmpProtocolException(socket, message + "; excerpt: " + excerpt, excerpt, cause);
  }

  /** The start of the offending data, control characters escaped, for logs and messages. */
  public String excerpt() {
    return excerpt;
  }
}
