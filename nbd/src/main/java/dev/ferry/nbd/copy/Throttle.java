package dev.ferry.nbd.copy;

import java.util.function.BooleanSupplier;

/**
 * A bandwidth cap shared by all workers of a copy: each request reserves its bytes' share of
 * time on one clock and sleeps until its slot, so the long-run rate stays at or under the cap
 * however many connections run. Unlimited when the rate is 0.
 */
final class Throttle {

  /** How often a waiting worker looks whether the copy was cancelled. */
  private static final long STEP_NANOS = 50_000_000;

  private final long bytesPerSecond;
  private long nextFree = System.nanoTime();

  Throttle(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
  }

  /**
   * Waits for {@code bytes}' slot; returns false, without waiting it out, once {@code stop} says
   * so (a cancelled copy must not sit out the slots its workers reserved).
   */
  boolean acquire(long bytes, BooleanSupplier stop) throws InterruptedException {
    if (bytesPerSecond <= 0) {
      return true;
    }
    long start;
    synchronized (this) {
      long now = System.nanoTime();
      // an idle link earns no burst credit beyond now
      start = Math.max(now, nextFree);
      nextFree = start + (long) (bytes * 1e9 / bytesPerSecond);
    }
    for (long wait = start - System.nanoTime(); wait > 0; wait = start - System.nanoTime()) {
      if (stop.getAsBoolean()) {
        return false;
      }
      long step = Math.min(wait, STEP_NANOS);
      Thread.sleep(step / 1_000_000, (int) (step % 1_000_000));
    }
    return !stop.getAsBoolean();
  }
}
