package dev.ferry.qmp;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Nothing arrived by the deadline: no reply to a command, no greeting while connecting, or no
 * matching event for {@link QmpClient#awaitEvent}. A command that timed out may still run in
 * QEMU; its late reply is dropped. The connection stays usable.
 */
public final class QmpTimeoutException extends QmpException {

  private final String command;
  private final Duration deadline;

  private QmpTimeoutException(Path socket, String command, Duration deadline, String message) {
    super(socket, message, null);
    this.command = command;
    this.deadline = deadline;
  }

  static QmpTimeoutException noReply(Path socket, String command, Duration deadline) {
    return new QmpTimeoutException(socket, command, deadline,
        "qmp command '%s' got no reply from %s within %d ms"
            .formatted(command, socket, deadline.toMillis()));
  }

  static QmpTimeoutException noGreeting(Path socket, Duration deadline) {
    return new QmpTimeoutException(socket, null, deadline,
        "no qmp greeting from %s within %d ms".formatted(socket, deadline.toMillis()));
  }

  static QmpTimeoutException noEvent(Path socket, Duration deadline) {
    return new QmpTimeoutException(socket, null, deadline,
        "no matching qmp event from %s within %d ms".formatted(socket, deadline.toMillis()));
  }

  /** The command that got no reply; empty when the wait was for the greeting or an event. */
  public Optional<String> command() {
    return Optional.ofNullable(command);
  }

  /** How long the client waited. */
  public Duration deadline() {
    return deadline;
  }
}
