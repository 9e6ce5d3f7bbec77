package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to the QMP monitor of one QEMU process, over its UNIX socket.
 *
 * <p>Design: commands are asynchronous and carry an increasing integer {@code id}. One writer
 * thread ({@code Outbox}) sends them in order, so a stalled socket never blocks a caller past its
 * deadline. One reader thread reads newline-framed JSON under a read limit ({@code LineReader});
 * {@code Inbound} routes replies by id to {@code PendingCalls}, so replies may come in any order
 * and unknown ids are logged and dropped, and events to {@code EventHub}, which runs listeners on
 * a dispatcher thread of their own. The connection only moves forward: connecting (inside
 * {@link #connect}), open, closed. When it closes, for whatever reason, every pending call fails
 * at once and every later call fails immediately; QMP has no way to resynchronise a stream, so a
 * malformed message closes it too.
 *
 * <p>Thread-safe. Wire traffic is logged at DEBUG.
 */
public final class QmpClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QmpClient.class);

  /** Why the connection ended; {@code cause} is null when the client closed it. */
  private record Closure(String reason, Throwable cause) {}

  private final Path socket;
  private final SocketChannel channel;
  private final QmpOptions options;
  private final PendingCalls pending;
  private final EventHub events;
  private final CompletableFuture<QmpGreeting> greeting = new CompletableFuture<>();
  private final Outbox outbox;
  private final AtomicReference<Closure> closure = new AtomicReference<>();
  private final Thread reader;

  private QmpClient(Path socket, SocketChannel channel, QmpOptions options) {
    this.socket = socket;
    this.channel = channel;
    this.options = options;
    this.pending = new PendingCalls(socket);
    this.events = new EventHub(socket);
    this.outbox = new Outbox(socket, channel, pending,
        e -> shutdown(new Closure(String.valueOf(e.getMessage()), e)));
    this.reader = Thread.ofVirtual().name("qmp-reader " + socket).unstarted(this::readLoop);
  }

  /** {@link #connect(Path, Duration, QmpOptions)} with {@link QmpOptions#defaults()}. */
  public static QmpClient connect(Path socket, Duration timeout) throws QmpException {
    return connect(socket, timeout, QmpOptions.defaults());
  }

  /**
   * Connects to a QMP socket, reads the greeting and sends {@code qmp_capabilities}.
   *
   * <p>Does not retry: if nobody listens on {@code socket} (no such file, or a stale one) it fails
   * at once with {@link QmpConnectionException}. Waiting for a starting QEMU belongs to the
   * launcher, which also knows whether the process is still alive.
   *
   * @param timeout bounds the greeting and the capabilities negotiation together
   * @throws QmpConnectionException if the socket cannot be opened or closes during the handshake
   * @throws QmpTimeoutException if the handshake does not finish within {@code timeout}
   * @throws QmpProtocolException if the peer does not speak QMP
   * @throws QmpErrorException if QEMU refuses {@code qmp_capabilities}
   */
  public static QmpClient connect(Path socket, Duration timeout, QmpOptions options)
      throws QmpException {
    Objects.requireNonNull(socket, "socket");
    requirePositive(timeout, "timeout");
    Objects.requireNonNull(options, "options");
    long giveUpAt = System.nanoTime() + timeout.toNanos();
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel);
      throw QmpConnectionException.cannotConnect(socket, e);
    }
    QmpClient client = new QmpClient(socket, channel, options);
    client.outbox.start();
    client.reader.start();
    try {
      Futures.await(client.greeting, timeout, () -> QmpTimeoutException.noGreeting(socket, timeout),
          "the qmp greeting from " + socket);
      Duration left = Duration.ofNanos(Math.max(giveUpAt - System.nanoTime(), 1_000_000));
      client.call(new QmpCapabilities(), left);
      log.debug("qmp connected to {}: {}", socket, client.greeting());
      return client;
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /**
   * Sends a command by name; package-private so that callers outside this package send typed
   * commands only, and every QMP command name lives in its command class. The future completes with the reply's {@code return} member, or
   * exceptionally with a {@link QmpException}: {@link QmpErrorException},
   * {@link QmpTimeoutException} after {@code deadline}, {@link QmpConnectionException},
   * {@link QmpProtocolException}. Callbacks chained onto it run on a thread of their own, never on
   * the client's reader. Cancelling it forgets the call; a later reply is dropped.
   *
   * @param arguments the command's arguments, empty for none (values as in
   *     {@link QmpCommand#arguments()})
   * @throws IllegalArgumentException if an argument cannot be written as JSON
   */
  CompletableFuture<JsonNode> send(String command, Map<String, ?> arguments,
      Duration deadline) {
    if (command == null || command.isBlank()) {
      throw new IllegalArgumentException("qmp command name must not be blank");
    }
    Objects.requireNonNull(arguments, "arguments");
    requirePositive(deadline, "deadline");
    Closure closed = closure.get();
    if (closed != null) {
      return CompletableFuture.failedFuture(
          QmpConnectionException.alreadyClosed(socket, command, closed.reason(), closed.cause()));
    }
    long id = pending.nextId();
    byte[] line = QmpCodec.encodeCommand(id, command, arguments);
    PendingCalls.Call call = pending.register(id, command, deadline);
    events.markCommandSent();
    outbox.add(call, line);
    // the connection may have closed since the check above, after failing what was pending then
    closed = closure.get();
    if (closed != null && pending.take(call)) {
      PendingCalls.settle(call, failure(command, closed));
    }
    return call.future();
  }

  /** Sends a typed command; the future completes with its parsed return value. */
  public <R> CompletableFuture<R> send(QmpCommand<R> command, Duration deadline) {
    return send(command.name(), command.arguments(), deadline)
        .thenApply(ret -> parse(command, ret));
  }

  /**
   * Executes a command and waits for its reply.
   *
   * @return the reply's {@code return} member
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted
   *     while waiting (the interrupt status is kept)
   */
  JsonNode call(String command, Map<String, ?> arguments, Duration deadline)
      throws QmpException {
    return Futures.await(send(command, arguments, deadline), "qmp command '" + command + "'");
  }

  /** Executes a command without arguments, with the default deadline. */
  JsonNode call(String command) throws QmpException {
    return call(command, Map.of(), options.defaultDeadline());
  }

  /**
   * Sends {@code commands} one after another without waiting between them, then waits for every
   * reply. QEMU runs them in the order sent, so commands that each need the one before to have
   * run, but not its answer, cost one round trip instead of one each (QEMU runs a later command
   * also when an earlier one failed: only send together what may run whatever the others do).
   *
   * @return per command, in order: its failure, or null
   */
  public List<QmpException> callInOrder(List<? extends QmpCommand<?>> commands, Duration deadline) {
    List<CompletableFuture<?>> sent = new java.util.ArrayList<>();
    for (QmpCommand<?> c : commands) sent.add(send(c, deadline));
    List<QmpException> failures = new java.util.ArrayList<>();
    for (int i = 0; i < sent.size(); i++) {
      try {
        Futures.await(sent.get(i), "qmp command '" + commands.get(i).name() + "'");
        failures.add(null);
      } catch (QmpException e) {
        failures.add(e);
      }
    }
    return failures;
  }

  /** Executes a typed command with the default deadline. */
  public <R> R call(QmpCommand<R> command) throws QmpException {
    return call(command, options.defaultDeadline());
  }

  /** Executes a typed command. */
  public <R> R call(QmpCommand<R> command, Duration deadline) throws QmpException {
    return parse(command, call(command.name(), command.arguments(), deadline));
  }

  /**
   * Subscribes to every event that arrives from now on. Listeners run in arrival order on one
   * dispatcher thread per client, never on the reader: a slow listener delays later events, not
   * replies. A listener that throws is logged and stays subscribed.
   */
  public QmpSubscription subscribe(Consumer<QmpEvent> listener) {
    return events.subscribe(null, Objects.requireNonNull(listener, "listener"));
  }

  /** Subscribes to the events called {@code eventName}, e.g. {@code BLOCK_JOB_READY}. */
  public QmpSubscription subscribe(String eventName, Consumer<QmpEvent> listener) {
    return events.subscribe(Objects.requireNonNull(eventName, "eventName"),
        Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Waits for the next event that matches, counting from this thread's latest command on this
   * client, so the usual pattern is race-free: {@code call(new Cont())} then {@code
   * awaitEvent(RESUME)} sees the event even if QEMU sent it before or just after the reply, and
   * before this method was called. Each event is returned to a thread once: two waits for the same
   * kind of event return two successive events. A thread that has sent no command counts from
   * now. Looks back at most 1024 events.
   *
   * <p>Wait right after the command that causes the event: another command sent by this thread in
   * between moves the starting point past events that came before it. For anything more involved,
   * {@link #subscribe} before sending.
   *
   * <p>After the connection closed this still returns a matching event that arrived before, e.g.
   * {@code SHUTDOWN} after {@link dev.ferry.qmp.machine.Quit}, and otherwise fails at once.
   *
   * @param match tested on the event dispatcher thread; keep it quick
   * @throws QmpTimeoutException if no matching event arrives within {@code deadline}
   * @throws QmpConnectionException if the connection closes first
   * @throws java.util.concurrent.CancellationException if the calling thread is interrupted
   */
  public QmpEvent awaitEvent(Predicate<QmpEvent> match, Duration deadline) throws QmpException {
    Objects.requireNonNull(match, "match");
    requirePositive(deadline, "deadline");
    return events.await(match, deadline);
  }

  /** The greeting QEMU sent: its version and the capabilities it offers. */
  public QmpGreeting greeting() {
    return greeting.resultNow();
  }

  /** The socket this client is connected to. */
  public Path socket() {
    return socket;
  }

  /** Whether the connection is still up; once false, it stays false. */
  public boolean isOpen() {
    return closure.get() == null;
  }

  /** Closes the connection; idempotent. Pending calls fail with QmpConnectionException. */
  @Override
  public void close() {
    shutdown(new Closure("closed by the client", null));
  }

  private void readLoop() {
    LineReader lines = new LineReader(socket, channel, options.maxLineLength());
    Inbound inbound = new Inbound(socket, pending, events, greeting);
    try {
      for (byte[] line; (line = lines.next()) != null; ) {
        inbound.accept(line);
      }
      String reason = lines.endedMidLine() ? "end of stream inside a message" : "end of stream";
      shutdown(new Closure(reason, new EOFException(reason)));
    } catch (QmpProtocolException e) {
      log.warn("closing the qmp connection: {}", e.getMessage());
      shutdown(new Closure("protocol error: " + e.getMessage(), e));
    } catch (IOException e) {
      shutdown(new Closure(String.valueOf(e.getMessage()), e));
    } catch (RuntimeException e) {
      log.error("qmp reader for {} failed", socket, e);
      shutdown(new Closure("reader failed: " + e, e));
    }
  }

  private void shutdown(Closure why) {
    if (!closure.compareAndSet(null, why)) {
      return;
    }
    closeQuietly(channel); // unblocks the reader
    outbox.stop();
    List<PendingCalls.Call> failed = pending.takeAll();
    if (why.cause() == null) {
      log.debug("qmp connection to {} closed by the client, {} calls pending", socket,
          failed.size());
    } else {
      log.info("qmp connection to {} closed: {}, {} calls pending", socket, why.reason(),
          failed.size());
    }
    greeting.completeExceptionally(why.cause() instanceof QmpProtocolException protocol
        ? protocol
        : QmpConnectionException.closedBeforeGreeting(socket, why.reason(), why.cause()));
    failed.forEach(call -> PendingCalls.settle(call, failure(call.command(), why)));
    events.close(why.reason(), why.cause());
  }

  private QmpException failure(String command, Closure why) {
    return why.cause() instanceof QmpProtocolException protocol
        ? QmpProtocolException.whilePending(protocol, command)
        : QmpConnectionException.closedWhilePending(socket, command, why.reason(), why.cause());
  }

  private <R> R parse(QmpCommand<R> command, JsonNode ret) {
    try {
      return command.parse(ret);
    } catch (QmpException e) {
      throw e;
    } catch (RuntimeException e) {
      throw QmpProtocolException.unexpectedReturn(socket, command.name(), ret, e);
    }
  }

  private static void requirePositive(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + duration);
    }
  }

  private static void closeQuietly(SocketChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      log.debug("closing a qmp socket failed", e);
    }
  }
}
