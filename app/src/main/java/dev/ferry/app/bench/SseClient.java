package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One {@code /api/events} client of the load benchmark: counts what it receives, notes the first
 * event (a replay from a pruned id must start with {@code replay.gap}) and reports every
 * {@code host.state} event that says a host is no longer online: a flap.
 */
final class SseClient implements AutoCloseable {

  private final String lastEventId;
  private final Stream<String> lines;
  private final AtomicLong events = new AtomicLong();
  private final AtomicLong gaps = new AtomicLong();
  private volatile String first;
  private volatile long firstAvailable = -1;
  private volatile long maxId = -1;
  private volatile boolean watching = true;
  private final int status;

  private SseClient(String lastEventId, int status, Stream<String> lines) {
    this.lastEventId = lastEventId;
    this.status = status;
    this.lines = lines;
  }

  static SseClient open(HttpClient http, String base, String token, String lastEventId, List<String> flaps)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/events"))
        .header("Authorization", "Bearer " + token).header("Accept", "text/event-stream");
    if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
    HttpResponse<Stream<String>> r = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
    SseClient c = new SseClient(lastEventId, r.statusCode(), r.body());
    if (r.statusCode() == 200) Thread.ofVirtual().start(() -> c.read(flaps));
    return c;
  }

  private void read(List<String> flaps) {
    String event = null;
    StringBuilder data = new StringBuilder();
    try {
      for (var it = lines.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (line.startsWith("event:")) {
          event = line.substring(6).strip();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).strip());
        } else if (line.isEmpty() && event != null) {
          handle(event, data.toString(), flaps);
          event = null;
          data.setLength(0);
        }
      }
    } catch (RuntimeException e) {
      // closed at the end of the run
    }
  }

  private void handle(String kind, String json, List<String> flaps) {
    events.incrementAndGet();
    if (first == null) first = kind;
    try {
      JsonNode e = Json.mapper().readTree(json);
      maxId = Math.max(maxId, e.get("id").asLong());
      if (kind.equals("replay.gap")) {
        gaps.incrementAndGet();
        firstAvailable = e.get("data").get("first_available_id").asLong();
      } else if (kind.equals("host.state") && watching && lastEventId == null
          && !e.get("data").get("state").asText().equals("online")) {
        flaps.add(e.get("subject").asText() + " " + e.get("data").get("state").asText() + " at " + e.get("time").asText());
      }
    } catch (Exception ignored) {
      // a message this client cannot read is still counted
    }
  }

  /** Stops counting flaps: the heartbeats have stopped. */
  void stopWatching() {
    watching = false;
  }

  Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("status", status);
    m.put("last_event_id_sent", lastEventId);
    m.put("events", events.get());
    m.put("first_event", first);
    m.put("replay_gaps", gaps.get());
    if (firstAvailable >= 0) m.put("gap_first_available_id", firstAvailable);
    m.put("max_id", maxId);
    return m;
  }

  @Override
  public void close() {
    lines.close();
  }
}
