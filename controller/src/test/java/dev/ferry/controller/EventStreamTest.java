package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import dev.ferry.api.VmCreateRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventStreamTest {

  @TempDir Path dir;
  TestCluster c;
  final HttpClient http = HttpClient.newHttpClient();
  final List<Stream<String>> open = new ArrayList<>();

  /** One SSE message: its event name, id and data. */
  record Sse(String event, long id, JsonNode data) {}

  @BeforeEach
  void start() throws Exception {
    c = new TestCluster(dir);
    c.hostWithLocalPool("host1");
  }

  @AfterEach
  void stop() {
    open.forEach(Stream::close);
    c.close();
  }

  /** Connects and parses messages into a queue on a virtual thread. */
  BlockingQueue<Sse> connect(String lastEventId) throws Exception {
    HttpResponse<Stream<String>> r = open(lastEventId);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
    open.add(r.body());
    BlockingQueue<Sse> queue = new ArrayBlockingQueue<>(100);
    Iterator<String> lines = r.body().iterator();
    Thread.ofVirtual().start(() -> {
      String event = null;
      long id = -1;
      StringBuilder data = new StringBuilder();
      try {
        while (lines.hasNext()) {
          String line = lines.next();
          if (line.startsWith("event:")) event = line.substring(6).strip();
          else if (line.startsWith("id:")) id = Long.parseLong(line.substring(3).strip());
          else if (line.startsWith("data:")) data.append(line.substring(5).strip());
          else if (line.isEmpty() && event != null) {
            queue.add(new Sse(event, id, Json.mapper().readTree(data.toString())));
            event = null;
            data.setLength(0);
          }
        }
      } catch (Exception e) {
        // stream closed by the test
      }
    });
    return queue;
  }

  HttpResponse<Stream<String>> open(String lastEventId) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(c.controller.url() + "/api/events"))
        .header("Authorization", "Bearer " + c.controller.token()).header("Accept", "text/event-stream");
    if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
  }

  /** Restarts the test's cluster with other limits (same data dir). */
  void restartWith(GrowthLimits limits) throws Exception {
    c.close();
    c = new TestCluster(ControllerConfig.loopback(dir, Duration.ofSeconds(10)).withLimits(limits));
    c.hostWithLocalPool("host1");
  }

  static Sse next(BlockingQueue<Sse> q) throws InterruptedException {
    Sse s = q.poll(5, TimeUnit.SECONDS);
    assertThat(s).as("an event within 5 s").isNotNull();
    return s;
  }

  @Test
  void stream_vmCreated_deliversEventWithKindIdAndData() throws Exception {
    BlockingQueue<Sse> q = connect(null);
    Thread.sleep(200); // let the subscription start before the change
    c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null, null, null,
        List.of(), true));

    Sse s = next(q);
    assertThat(s.event()).isEqualTo("vm.created");
    assertThat(s.data().get("id").asLong()).isEqualTo(s.id());
    assertThat(s.data().get("kind").asText()).isEqualTo("vm.created");
    assertThat(s.data().get("subject").asText()).isEqualTo("web");
    assertThat(s.data().get("data").get("host").asText()).isEqualTo("host1");
  }

  @Test
  void stream_withLastEventId_replaysStoredEventsAfterIt() throws Exception {
    c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null, null, null,
        List.of(), true));

    BlockingQueue<Sse> all = connect("0");
    Sse first = next(all);
    assertThat(first.event()).isEqualTo("host.registered");
    assertThat(next(all).event()).isEqualTo("pool.created");
    Sse created = next(all);
    assertThat(created.event()).isEqualTo("vm.created");

    BlockingQueue<Sse> rest = connect(String.valueOf(first.id()));
    assertThat(next(rest).event()).isEqualTo("pool.created");
    assertThat(next(rest).id()).isEqualTo(created.id());
    assertThat(rest.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void stream_replayedAfterRestart_keepsEvents() throws Exception {
    c.restart();
    BlockingQueue<Sse> q = connect("0");
    assertThat(next(q).event()).isEqualTo("host.registered");
  }

  @Test
  void stream_withoutAcceptEventStream_is406Problem() throws Exception {
    TestCluster.Reply r = c.get("/api/events");
    assertThat(r.status()).isEqualTo(406);
    assertThat(r.json().get("detail").asText()).contains("Accept: text/event-stream");
  }

  @Test
  void stream_badLastEventId_is400() throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(c.controller.url() + "/api/events"))
        .header("Authorization", "Bearer " + c.controller.token()).header("Accept", "text/event-stream")
        .header("Last-Event-ID", "abc")
        .timeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(400);
  }

  /**
   * A client that last saw an event which has since been pruned is told so before the replay
   * goes on, with the first id still available, instead of silently missing events.
   */
  @Test
  void stream_replayFromPrunedId_startsWithReplayGapNamingFirstAvailableId() throws Exception {
    restartWith(GrowthLimits.defaults().withEventRetention(Duration.ofDays(7), 2));
    c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null, null, null,
        List.of(), true));
    List<dev.ferry.api.Event> before = c.controller.eventsAfter(0);
    long pruned = c.controller.pruneEvents();
    List<dev.ferry.api.Event> kept = c.controller.eventsAfter(0);
    assertThat(kept).hasSize(2);
    assertThat(pruned).isEqualTo(kept.getFirst().id() - 1);

    BlockingQueue<Sse> q = connect(String.valueOf(before.getFirst().id()));
    Sse gap = next(q);
    assertThat(gap.event()).isEqualTo("replay.gap");
    assertThat(gap.id()).isEqualTo(pruned);
    assertThat(gap.data().get("data").get("first_available_id").asLong()).isEqualTo(kept.getFirst().id());
    assertThat(next(q).id()).isEqualTo(kept.get(0).id());
    assertThat(next(q).id()).isEqualTo(kept.get(1).id());

    // reconnecting with the gap's id (what an SSE client sends next) replays without a second gap
    BlockingQueue<Sse> again = connect(String.valueOf(gap.id()));
    assertThat(next(again).id()).isEqualTo(kept.get(0).id());
  }

  @Test
  void stream_replayFromKeptId_hasNoGap() throws Exception {
    restartWith(GrowthLimits.defaults().withEventRetention(Duration.ofDays(7), 2));
    c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null, null, null,
        List.of(), true));
    c.controller.pruneEvents();
    List<dev.ferry.api.Event> kept = c.controller.eventsAfter(0);

    BlockingQueue<Sse> q = connect(String.valueOf(kept.getFirst().id()));
    assertThat(next(q).id()).isEqualTo(kept.get(1).id());
    assertThat(q.poll(300, TimeUnit.MILLISECONDS)).isNull();
  }

  /** Each open stream holds a thread and a queue; past the cap the next client is told why, not served. */
  @Test
  void stream_pastMaxClients_is503WithClearMessage_andASlotFreesWhenAClientLeaves() throws Exception {
    restartWith(GrowthLimits.defaults().withSseMaxClients(2));
    connect(null);
    connect(null);

    HttpRequest req = HttpRequest.newBuilder(URI.create(c.controller.url() + "/api/events"))
        .header("Authorization", "Bearer " + c.controller.token()).header("Accept", "text/event-stream")
        .timeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> refused = http.send(req, HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(Json.mapper().readTree(refused.body()).get("detail").asText())
        .contains("too many event streams").contains("2 clients").contains("--sse-max-clients");

    open.removeFirst().close();
    // the server notices a gone client when a write to it fails: publish until one does
    int[] n = {0};
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          n[0]++;
          c.post("/api/pools", new dev.ferry.api.PoolCreateRequest("more" + n[0], "host1", "/pools/host1/more" + n[0],
              false));
          HttpResponse<Stream<String>> r = open(null);
          if (r.statusCode() == 200) open.add(r.body());
          else r.body().close();
          return r.statusCode() == 200;
        });
  }
}
