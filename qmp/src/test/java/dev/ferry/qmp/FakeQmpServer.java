package dev.ferry.qmp;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A scripted QMP peer on a real UNIX socket. It accepts one client, sends QEMU 7.2's greeting,
 * answers {@code qmp_capabilities}, then plays its script step by step: {@code expect("stop")}
 * reads the next command and fails the test if it is another one; {@code .reply(json)} answers it
 * with the client's id. Steps can be added while the client runs. {@link #close()} turns any
 * script failure into an {@link AssertionError}.
 */
final class FakeQmpServer implements AutoCloseable {

  static final String GREETING = """
      {"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, \
      "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}""";
  static final long EVENT_SECONDS = 1_764_000_000L;
  static final long EVENT_MICROS = 123_456L;

  private sealed interface Step {}

  private record Expect(String command, String reply, Held held) implements Step {}

  private record Reply(Held held, String reply) implements Step {}

  private record Raw(String text) implements Step {}

  private record Wait(CountDownLatch gate) implements Step {}

  private record Disconnect() implements Step {}

  private final Path socket;
  private final ServerSocketChannel server;
  private final boolean greet;
  private final BlockingQueue<Step> script = new LinkedBlockingQueue<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private OutputStream out;

  private FakeQmpServer(Path dir, boolean greet) throws IOException {
    this.socket = dir.resolve("qmp.sock");
    this.greet = greet;
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    this.thread = Thread.ofPlatform().daemon().name("fake-qmp " + socket).unstarted(this::serve);
  }

  /** A server that greets and negotiates capabilities like QEMU. */
  static FakeQmpServer start(Path dir) throws IOException {
    FakeQmpServer fake = new FakeQmpServer(dir, true);
    fake.thread.start();
    return fake;
  }

  /** A server that accepts the connection and then says nothing (not even the greeting). */
  static FakeQmpServer silent(Path dir) throws IOException {
    FakeQmpServer fake = new FakeQmpServer(dir, false);
    fake.thread.start();
    return fake;
  }

  Path socket() {
    return socket;
  }

  /** Every line the client sent, without its newline, the capabilities negotiation included. */
  List<String> received() {
    return List.copyOf(received);
  }

  /** Reads the next command, which must be {@code command}; the returned step says the answer. */
  Expectation expect(String command) {
    return new Expectation(command);
  }

  /** Sends {@code {"event": name, "data": data, "timestamp": ...}}; data null for none. */
  FakeQmpServer emit(String name, String data) {
    String json = data == null ? "" : ", \"data\": " + data;
    return sendRaw("{\"event\": \"%s\"%s, \"timestamp\": {\"seconds\": %d, \"microseconds\": %d}}"
        .formatted(name, json, EVENT_SECONDS, EVENT_MICROS));
  }

  /** Sends {@code line} and a newline, as is. */
  FakeQmpServer sendRaw(String line) {
    return step(new Raw(line + "\n"));
  }

  /** Sends {@code text} without a newline. */
  FakeQmpServer sendUnterminated(String text) {
    return step(new Raw(text));
  }

  /** Closes the connection. */
  FakeQmpServer disconnect() {
    return step(new Disconnect());
  }

  /** The script stops here until the test opens the returned latch. */
  CountDownLatch gate() {
    CountDownLatch gate = new CountDownLatch(1);
    step(new Wait(gate));
    return gate;
  }

  private FakeQmpServer step(Step step) {
    script.add(step);
    return this;
  }

  final class Expectation {
    private final String command;

    private Expectation(String command) {
      this.command = command;
    }

    /** Answers {@code {"return": json}}. */
    FakeQmpServer reply(String json) {
      return step(new Expect(command, "{\"return\": " + json + "}", null));
    }

    /** Answers {@code {"error": {"class": errorClass, "desc": desc}}}. */
    FakeQmpServer replyError(String errorClass, String desc) {
      return step(new Expect(command, "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}"
          .formatted(errorClass, desc), null));
    }

    /** Reads the command and answers later, when the script reaches {@link Held#reply}. */
    Held hold() {
      Held held = new Held();
      step(new Expect(command, null, held));
      return held;
    }
  }

  /** A command read but not answered yet. */
  final class Held {
    private final CountDownLatch read = new CountDownLatch(1);
    private volatile JsonNode id;

    /** Adds a script step that answers the held command with {@code {"return": json}}. */
    FakeQmpServer reply(String json) {
      return step(new Reply(this, "{\"return\": " + json + "}"));
    }

    /** Adds a script step that answers the held command with an error. */
    FakeQmpServer replyError(String errorClass, String desc) {
      return step(new Reply(this, "{\"error\": {\"class\": \"%s\", \"desc\": \"%s\"}}".formatted(errorClass, desc)));
    }

    /** Waits until the server has read the command. */
    void awaitRead() throws InterruptedException {
      if (!read.await(5, TimeUnit.SECONDS)) {
        throw new AssertionError("the client never sent the held command");
      }
    }
  }

  private void serve() {
    try (SocketChannel client = server.accept()) {
      BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(client),
          UTF_8));
      out = Channels.newOutputStream(client);
      if (!greet) {
        script.take(); // hold the connection open and silent until the test ends
        return;
      }
      write(GREETING + "\n");
      answer(read(in, "qmp_capabilities").get("id"), "{\"return\": {}}");
      while (true) {
        switch (script.take()) {
          case Expect e when e.held() == null -> answer(read(in, e.command()).get("id"), e.reply());
          case Expect e -> {
            e.held().id = read(in, e.command()).get("id");
            e.held().read.countDown();
          }
          case Reply r -> answer(r.held().id, r.reply());
          case Raw r -> write(r.text());
          case Wait w -> w.gate().await();
          case Disconnect d -> {
            return;
          }
        }
      }
    } catch (InterruptedException | IOException e) {
      if (!Thread.currentThread().isInterrupted() && !(e instanceof InterruptedException)) {
        failures.add(e);
      }
    } catch (Throwable t) {
      failures.add(t);
    }
  }

  private JsonNode read(BufferedReader in, String expected) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new AssertionError("expected '%s' but the client hung up".formatted(expected));
    }
    received.add(line);
    JsonNode command = QmpCodec.MAPPER.readTree(line);
    if (!expected.equals(command.path("execute").asText())) {
      throw new AssertionError("expected '%s' but the client sent %s".formatted(expected, line));
    }
    return command;
  }

  private void answer(JsonNode id, String reply) throws IOException {
    ObjectNode message = (ObjectNode) QmpCodec.MAPPER.readTree(reply);
    if (id != null) {
      message.set("id", id);
    }
    write(message + "\n");
  }

  private void write(String text) throws IOException {
    out.write(text.getBytes(UTF_8));
    out.flush();
  }

  /** Stops the server and fails the test if the script went wrong. */
  @Override
  public void close() throws Exception {
    thread.interrupt();
    server.close();
    thread.join(TimeUnit.SECONDS.toMillis(5));
    if (!failures.isEmpty()) {
      AssertionError error = new AssertionError("fake qmp server failed: " + failures.getFirst());
      failures.forEach(error::addSuppressed);
      throw error;
    }
  }
}
