package dev.ferry.controller.rest;

import dev.ferry.api.Event;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.events.EventBus;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import java.util.List;

/**
 * {@code GET /api/events}: every event as an SSE message (event name = kind, id = event id, data =
 * the event as JSON). With {@code Last-Event-ID} (header, or query {@code last_event_id}) the
 * stored events after it are replayed first. The client must send {@code Accept: text/event-stream}. The subscription starts before the replay, and the
 * live queue then skips ids already sent, so no event falls between replay and live delivery.
 */
final class EventStream {

  static final int REPLAY_BATCH = 500;
  static final long POLL_MS = 250;
  static final long KEEPALIVE_MS = 15_000;

  private final EventBus bus;
  private final java.util.concurrent.atomic.AtomicInteger active = new java.util.concurrent.atomic.AtomicInteger();

  EventStream(EventBus bus) {
    this.bus = bus;
  }

  void handle(Context ctx) throws Exception {
    String accept = ctx.header("Accept");
    // Javalin's SSE handler silently answers nothing without it; say so instead
    if (accept == null || !accept.contains("text/event-stream")) {
      throw new ControllerException(ControllerException.Kind.NOT_ACCEPTABLE,
          "the event stream needs the request header Accept: text/event-stream");
    }
    String raw = ctx.header("Last-Event-ID");
    if (raw == null) raw = ctx.queryParam("last_event_id");
    Long lastId = null;
    if (raw != null && !raw.isBlank()) {
      try {
        lastId = Long.parseLong(raw.strip());
      } catch (NumberFormatException e) {
        throw ControllerException.invalid("Last-Event-ID", raw, "the id of an event (an integer)");
      }
    }
    Long from = lastId;
    new SseHandler(client -> stream(client, from)).handle(ctx);
  }

  /**
   * Waits until every stream has ended (they end within {@link #POLL_MS} of the bus closing).
   * The HTTP server must not stop under a running stream: Jetty would recycle the request while
   * Javalin still completes it.
   */
  void awaitIdle(long maxMillis) throws InterruptedException {
    long deadline = System.nanoTime() + maxMillis * 1_000_000;
    while (active.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  private void stream(SseClient client, Long lastId) {
    active.incrementAndGet();
    try (EventBus.Subscription live = bus.subscribe()) {
      long sent = lastId == null ? Long.MAX_VALUE : lastId;
      if (lastId != null) {
        List<Event> batch;
        do {
          batch = bus.after(sent, REPLAY_BATCH);
          for (Event e : batch) {
            send(client, e);
            sent = e.id();
          }
        } while (batch.size() == REPLAY_BATCH && !client.terminated());
      }
      client.sendComment("connected");
      long quietSince = System.nanoTime();
      while (!client.terminated() && live.open()) {
        Event e = live.poll(POLL_MS);
        if (e != null) {
          // without a replay every live event is new; after one, skip what the replay already sent
          if (lastId == null || e.id() > sent) {
            send(client, e);
            sent = e.id();
          }
          quietSince = System.nanoTime();
        } else if (System.nanoTime() - quietSince > KEEPALIVE_MS * 1_000_000) {
          client.sendComment("keep-alive"); // also how a gone client is noticed
          quietSince = System.nanoTime();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      active.decrementAndGet();
    }
  }

  private static void send(SseClient client, Event e) {
    client.sendEvent(e.kind(), Responses.json(e), String.valueOf(e.id()));
  }
}
