package dev.ferry.controller.events;

import dev.ferry.controller.store.EventStore;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prunes the event journal by age and by count on a fixed period. Between two runs the journal
 * may exceed its count by what was published meanwhile; the period is short enough that this
 * stays small next to the cap. A client replaying from a pruned id is told so by the stream
 * ({@code replay.gap}), so pruning never silently loses an event for a reader.
 */
public final class EventRetention implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(EventRetention.class);
  static final Duration PERIOD = Duration.ofSeconds(10);

  private final EventStore store;
  private final InstantSource clock;
  private final Duration maxAge;
  private final long maxCount;
  private final ScheduledExecutorService executor;

  public EventRetention(EventStore store, InstantSource clock, Duration maxAge, long maxCount) {
    this.store = store;
    this.clock = clock;
    this.maxAge = maxAge;
    this.maxCount = maxCount;
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ferry-event-retention");
      t.setDaemon(true);
      return t;
    });
  }

  /** Prunes now and then every {@link #PERIOD}. */
  public EventRetention start() {
    executor.scheduleWithFixedDelay(() -> {
      try {
        pruneNow();
      } catch (RuntimeException e) {
        // a busy store is tried again on the next tick
        LOG.warn("event pruning failed: {}", e.toString());
      }
    }, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Prunes once; returns the highest id pruned, or 0. */
  public long pruneNow() {
    long through = store.prune(clock.instant().minus(maxAge), maxCount);
    if (through > 0) LOG.debug("events pruned through id {} (keep {} at most, none older than {})", through,
        maxCount, maxAge);
    return through;
  }

  @Override
  public void close() {
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
