package dev.ferry.qmp;

import java.nio.file.Path;

/**
 * The socket could not be opened, or the connection ended (QEMU exited or was killed, the peer
 * reset it, a protocol error or {@link QmpClient#close()} closed it). Once a connection has ended
 * every later call fails with this exception at once; connect again to continue.
 */
public final class QmpConnectionException extends QmpException {

  private QmpConnectionException(Path socket, String message, Throwable cause) {
    super(socket, message, cause);
  }

  static QmpConnectionException cannotConnect(Path socket, Exception cause) {
    return new QmpConnectionException(socket,
        "cannot connect to qmp socket %s: %s".formatted(socket, cause.getMessage()), cause);
  }

  static QmpConnectionException closedWhilePending(Path socket, String command, String reason,
      Throwable cause) {
    return new QmpConnectionException(socket,
        "qmp connection to %s closed while '%s' was pending: %s".formatted(socket, command, reason),
        cause);
  }

  static QmpConnectionException alreadyClosed(Path socket, String command, String reason,
      Throwable cause) {
    return new QmpConnectionException(socket,
        "qmp connection to %s is closed (%s); cannot send '%s'".formatted(socket, reason, command),
        cause);
  }

  static QmpConnectionException closedBeforeGreeting(Path socket, String reason, Throwable cause) {
    return new QmpConnectionException(socket,
        "qmp connection to %s closed before the greeting: %s".formatted(socket, reason), cause);
  }

  static QmpConnectionException closedWhileAwaitingEvent(Path socket, String reason,
      Throwable cause) {
    return new QmpConnectionException(socket,
        "qmp connection to %s closed while awaiting an event: %s".formatted(socket, reason), cause);
  }
}
