package dev.ferry.agent.migration;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.QmpClient;
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
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A QEMU peer over a real UNIX socket that answers each command with the next scripted reply, in
 * order, and records what it received: enough to drive the agent's QMP helpers without QEMU.
 */
final class ScriptedQmp implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String GREETING = "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7},"
      + " \"package\": \"\"}, \"capabilities\": [\"oob\"]}}";

  private final ServerSocketChannel server;
  private final List<String> replies;
  private final List<JsonNode> received = new CopyOnWriteArrayList<>();
  private final Thread peer;
  private final QmpClient client;

  /** @param replies the answer to each command after {@code qmp_capabilities}, e.g. {@code {"return": {}}} */
  ScriptedQmp(Path dir, String... replies) throws IOException {
    Path socket = dir.resolve("qmp.sock");
    this.server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
    this.replies = List.of(replies);
    this.peer = Thread.ofVirtual().start(this::serve);
    this.client = QmpClient.connect(socket, Duration.ofSeconds(5));
  }

  Qmp qmp() {
    return new Qmp(client);
  }

  /** The commands received after {@code qmp_capabilities}, in order. */
  List<JsonNode> received() {
    return received;
  }

  private void serve() {
    try (SocketChannel c = server.accept()) {
      var in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), UTF_8));
      OutputStream out = Channels.newOutputStream(c);
      write(out, GREETING);
      answer(out, JSON.readTree(in.readLine()), "{\"return\": {}}");
      for (String reply : replies) {
        String line = in.readLine();
        if (line == null) return;
        JsonNode command = JSON.readTree(line);
        received.add(command);
        answer(out, command, reply);
      }
      while (in.readLine() != null) {
        // unscripted commands stay unanswered: the client's deadline fails the test
      }
    } catch (IOException e) {
      // the client hung up
    }
  }

  private static void answer(OutputStream out, JsonNode command, String reply) throws IOException {
    var node = (ObjectNode) JSON.readTree(reply);
    if (command.has("id")) node.set("id", command.get("id"));
    write(out, node.toString());
  }

  private static void write(OutputStream out, String line) throws IOException {
    out.write((line + "\n").getBytes(UTF_8));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    client.close();
    server.close();
    try {
      peer.join(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
