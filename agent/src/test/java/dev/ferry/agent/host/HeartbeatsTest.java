package dev.ferry.agent.host;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.Json;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HeartbeatsTest {

  static final AgentHeartbeat BEAT = new AgentHeartbeat("h1", "http://127.0.0.1:1", 2, 1L << 30, "7.2.0", "tcg",
      List.of(), List.of());

  @Test
  void heartbeats_runningController_receivesBeatWithBearerToken() throws Exception {
    var received = new LinkedBlockingQueue<String[]>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/agents/heartbeat", ex -> {
      received.add(new String[] {ex.getRequestHeaders().getFirst("Authorization"),
          new String(ex.getRequestBody().readAllBytes())});
      ex.sendResponseHeaders(204, -1);
      ex.close();
    });
    server.start();
    try (var hb = new Heartbeats("http://127.0.0.1:" + server.getAddress().getPort() + "/", "tok", Duration.ofMillis(100),
        () -> BEAT).start()) {
      String[] first = received.poll(10, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(first[0]).isEqualTo("Bearer tok");
      assertThat(Json.mapper().readValue(first[1], AgentHeartbeat.class)).isEqualTo(BEAT);
      assertThat(received.poll(10, TimeUnit.SECONDS)).as("keeps beating").isNotNull();
    } finally {
      server.stop(0);
    }
  }

  @Test
  void sendOnce_controllerDown_returnsFalseWithoutThrowing() throws Exception {
    int freePort;
    try (var s = new ServerSocket(0)) {
      freePort = s.getLocalPort();
    }
    try (var hb = new Heartbeats("http://127.0.0.1:" + freePort, "tok", Duration.ofSeconds(1), () -> BEAT)) {
      assertThat(hb.sendOnce()).isFalse();
      assertThat(hb.sendOnce()).isFalse();
    }
  }
}
