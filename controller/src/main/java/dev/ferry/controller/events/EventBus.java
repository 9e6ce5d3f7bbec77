package dev.ferry.controller.events;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Event;
import dev.ferry.api.Json;
import dev.ferry.controller.store.EventStore;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes state changes: each event is first appended to the store (which assigns its id) and
 * then handed to every live subscriber. Appending and handing out happen under one lock so that
 * subscribers see ids in increasing order, which the SSE replay relies on to drop duplicates.
 */
public final class EventBus implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EventBus.class);

  /** a subscriber that falls this far behind is dropped rather than growing without bound */
  static final int QUEUE_LIMIT = 10_000;

  private final EventStore store;
  private final InstantSource clock;
  private final List<Subscription> subscribers = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  public EventBus(EventStore store, InstantSource clock) {
    this.store = store;
    this.clock = clock;
  }

  /** Records and broadcasts one event; {@code data} is any record, serialized in the API dialect. */
  public synchronized Event publish(String kind, String subject, Object data) {
    JsonNode node = Json.mapper().valueToTree(data);
    Event event = store.append(clock.instant(), kind, subject, node);
    LOG.debug("event {} {} {}", event.id(), kind, subject);
    for (Subscription s : subscribers) {
      if (!s.queue.offer(event)) {
        LOG.warn("event subscriber fell {} events behind; dropping it", QUEUE_LIMIT);
        s.close();
      }
    }
    return event;
  }

  /** Stored events after {@code afterId}, oldest first. */
  public List<Event> after(long afterId, int limit) {
    return store.after(afterId, limit);
  }

  /** The lowest id still stored (every lower id was pruned), or null when none is. */
  public Long firstId() {
    return store.firstId();
  }

  /** Starts receiving every event published from now on; close the subscription to stop. */
  public Subscription subscribe() {
    Subscription s = new Subscription(this);
    subscribers.add(s);
    return s;
  }

  public boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
    subscribers.forEach(Subscription::close);
  }

  /** One subscriber's queue of events not yet delivered. */
  public static final class Subscription implements AutoCloseable {
    private final EventBus bus;
    final BlockingQueue<Event> queue = new LinkedBlockingQueue<>(QUEUE_LIMIT);
    private volatile boolean open = true;

    private Subscription(EventBus bus) {
      this.bus = bus;
    }

    /** The next event, or null after {@code millis} without one. */
    public Event poll(long millis) throws InterruptedException {
      return queue.poll(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public boolean open() {
      return open && !bus.closed;
    }

    @Override
    public void close() {
      open = false;
      bus.subscribers.remove(this);
    }
  }
}
