package dev.ferry.controller.hosts;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link HostRegistry#sweep()} a few times per host timeout, so a silent host turns
 * unreachable at most a fifth of the timeout late.
 */
public final class LivenessSweeper implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LivenessSweeper.class);

  private final ScheduledExecutorService executor;

  public LivenessSweeper(HostRegistry registry, Duration hostTimeout) {
    long period = Math.max(50, hostTimeout.toMillis() / 5);
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ferry-liveness");
      t.setDaemon(true);
      return t;
    });
    executor.scheduleWithFixedDelay(() -> {
      try {
        registry.sweep();
      } catch (RuntimeException e) {
        // a failed sweep (e.g. the store is busy) is retried on the next tick
        LOG.warn("liveness sweep failed: {}", e.toString());
      }
    }, period, period, TimeUnit.MILLISECONDS);
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
