package dev.ferry.controller.rest;

import dev.ferry.api.Event;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.events.EventBus;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.api.Json;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code GET /api/events}: every event as an SSE message (event name = kind, id = event id, data =
 * the event as JSON). With {@code Last-Event-ID} (header, or query {@code last_event_id}) the
 * stored events after it are replayed first. The client must send {@code Accept: text/event-stream}. The subscription starts before the replay, and the
 * live queue then skips ids already sent, so no event falls between replay and live delivery.
 *
 * <p>When events the client asks for were pruned, the replay starts with a synthetic
 * {@code replay.gap} event naming the first id still available; its SSE id is the last pruned id,
 * so a client that reconnects with it is not told twice. At most {@code maxClients} streams are
 * open at once: each holds a thread and a queue of up to {@link EventBus#QUEUE_LIMIT} events, and
 * the next client is answered 503 rather than allowed to exhaust the controller.
 */
final class EventStream {

  static final int REPLAY_BATCH = 500;
  static final long POLL_MS = 250;
  static final long KEEPALIVE_MS = 15_000;

  /** the synthetic event that tells a replaying client some of what it asked for was pruned */
  static final String REPLAY_GAP = "replay.gap";

  private final EventBus bus;
  private final int maxClients;
  private final Semaphore slots;
  private final AtomicInteger active = new AtomicInteger();

  EventStream(EventBus bus, int maxClients) {
    this.bus = bus;
    this.maxClients = maxClients;
    this.slots = new Semaphore(maxClients);
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
    if (!slots.tryAcquire()) {
      throw new ControllerException(ControllerException.Kind.BUSY, "too many event streams: " + maxClients
          + " clients are connected to /api/events (the controller's --sse-max-clients); retry later");
    }
    AtomicBoolean held = new AtomicBoolean(true);
    Runnable release = () -> {
      if (held.compareAndSet(true, false)) slots.release();
    };
    Long from = lastId;
    try {
      new SseHandler(client -> {
        try {
          stream(client, from);
        } finally {
          release.run();
        }
      }).handle(ctx);
    } catch (Exception | Error e) {
      release.run();
      throw e;
    }
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
          sent = announceGap(client, sent);
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

  /**
   * Sends {@code replay.gap} when ids after {@code sent} were pruned (checked before each batch,
   * since pruning may run during a long replay); returns the id the replay continues after.
   */
  private long announceGap(SseClient client, long sent) {
    Long first = bus.firstId();
    if (first == null || first <= sent + 1) return sent;
    long prunedThrough = first - 1;
    ObjectNode data = Json.mapper().createObjectNode();
    data.put("requested_after", sent);
    data.put("first_available_id", first);
    data.put("pruned_through", prunedThrough);
    send(client, new Event(prunedThrough, Instant.now(), REPLAY_GAP, "events", data));
    return prunedThrough;
  }

  private static void send(SseClient client, Event e) {
    client.sendEvent(e.kind(), Responses.json(e), String.valueOf(e.id()));
  }
}
