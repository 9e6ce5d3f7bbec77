package dev.ferry.qmp;

import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes each line from QEMU: the greeting, which must come first and only once; replies by id to
 * their calls; events to the {@link EventHub}. A reply nobody waits for (its call timed out or was
 * cancelled, or the id is not ours) is logged and dropped. Runs on the reader thread only.
 */
final class Inbound {

  private static final Logger log = LoggerFactory.getLogger(Inbound.class);

  private final Path socket;
  private final PendingCalls pending;
  private final EventHub events;
  private final CompletableFuture<QmpGreeting> greeting;

  Inbound(Path socket, PendingCalls pending, EventHub events,
      CompletableFuture<QmpGreeting> greeting) {
    this.socket = socket;
    this.pending = pending;
    this.events = events;
    this.greeting = greeting;
  }

  /** Handles one line without its newline. */
  void accept(byte[] line) throws QmpProtocolException {
    if (log.isDebugEnabled()) {
      log.debug("qmp {} <- {}", socket, QmpCodec.text(line));
    }
    if (isBlank(line)) {
      return;
    }
    QmpMessage message = QmpCodec.decode(socket, line);
    if (!(message instanceof QmpMessage.Greeting) && !greeting.isDone()) {
      throw QmpProtocolException.unexpected(socket, "expected the qmp greeting first", line);
    }
    switch (message) {
      case QmpMessage.Greeting g -> {
        if (!greeting.complete(g.greeting())) {
          throw QmpProtocolException.unexpected(socket, "a second greeting", line);
        }
      }
      case QmpMessage.SuccessResponse r -> {
        PendingCalls.Call call = take(r.id());
        if (call == null) {
          log.info("qmp {}: dropping a reply with unknown id {} (its call may have timed out)",
              socket, idText(r.id()));
        } else {
          PendingCalls.settle(call, r.value());
        }
      }
      case QmpMessage.ErrorResponse e -> {
        PendingCalls.Call call = take(e.id());
        if (call == null) {
          log.warn("qmp {}: dropping an error with unknown id {}: {}: {}", socket,
              idText(e.id()), e.errorClass(), e.desc());
        } else {
          PendingCalls.settle(call,
              new QmpErrorException(socket, call.command(), e.errorClass(), e.desc()));
        }
      }
      case QmpMessage.Event e -> events.publish(e.event());
      case QmpMessage.Unknown u -> log.warn("qmp {}: dropping a message of unknown kind: {}",
          socket, QmpCodec.excerpt(u.message()));
    }
  }

  private PendingCalls.Call take(OptionalLong id) {
    return id.isPresent() ? pending.take(id.getAsLong()) : null;
  }

  private static String idText(OptionalLong id) {
    return id.isPresent() ? Long.toString(id.getAsLong()) : "(none)";
  }

  private static boolean isBlank(byte[] line) {
    for (byte b : line) {
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
