package dev.ferry.controller;

import java.time.Duration;

/**
 * Bounds on what the controller keeps and serves, so that a long-running cluster does not grow
 * without end (issue 10, part 5): the event journal is pruned by age and by count, and the number
 * of open event streams is capped.
 *
 * @param eventRetention events older than this are pruned
 * @param eventMaxCount at most this many events are kept (the newest)
 * @param sseMaxClients at most this many {@code /api/events} streams at once; the next gets 503
 */
public record GrowthLimits(Duration eventRetention, long eventMaxCount, int sseMaxClients) {

  public static final Duration DEFAULT_EVENT_RETENTION = Duration.ofDays(7);
  /** a migration writes an event every 500 ms, so this holds a few days of a busy cluster */
  public static final long DEFAULT_EVENT_MAX_COUNT = 200_000;
  public static final int DEFAULT_SSE_MAX_CLIENTS = 64;

  public GrowthLimits {
    if (eventRetention == null || eventRetention.isNegative() || eventRetention.isZero()) {
      throw new IllegalArgumentException("event retention " + eventRetention + " must be positive");
    }
    if (eventMaxCount < 1) throw new IllegalArgumentException("event max count " + eventMaxCount + " must be at least 1");
    if (sseMaxClients < 1) throw new IllegalArgumentException("sse max clients " + sseMaxClients + " must be at least 1");
  }

  public static GrowthLimits defaults() {
    return new GrowthLimits(DEFAULT_EVENT_RETENTION, DEFAULT_EVENT_MAX_COUNT, DEFAULT_SSE_MAX_CLIENTS);
  }

  public GrowthLimits withEventRetention(Duration retention, long maxCount) {
    return new GrowthLimits(retention, maxCount, sseMaxClients);
  }

  public GrowthLimits withSseMaxClients(int max) {
    return new GrowthLimits(eventRetention, eventMaxCount, max);
  }
}
