package dev.ferry.nbd.copy;

/**
 * A bandwidth cap shared by all workers of a copy: each request reserves its bytes' share of
 * time on one clock and sleeps until its slot, so the long-run rate stays at or under the cap
 * however many connections run. Unlimited when the rate is 0.
 */
final class Throttle {

  private final long bytesPerSecond;
  private long nextFree = System.nanoTime();

  Throttle(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
  }

  void acquire(long bytes) throws InterruptedException {
    if (bytesPerSecond <= 0) {
      return;
    }
    long start;
    synchronized (this) {
      long now = System.nanoTime();
      // an idle link earns no burst credit beyond now
      start = Math.max(now, nextFree);
      nextFree = start + (long) (bytes * 1e9 / bytesPerSecond);
    }
    long wait = start - System.nanoTime();
    if (wait > 0) {
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
    }
  }
}
