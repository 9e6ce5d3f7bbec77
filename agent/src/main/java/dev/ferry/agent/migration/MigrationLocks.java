package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per VM name for the requests of one side of its migrations, taken with the caller's
 * deadline: a request that waits behind a slow one (a QEMU that does not answer, a post-copy
 * being paused) gives up with a conflict that says what holds the VM and for how long, instead of
 * tying up an HTTP thread without end (issue 9 B5). Reentrant, as the {@code synchronized} blocks
 * it replaces were: a rollback inside a failed prepare takes the same lock again.
 */
final class MigrationLocks {

  private final String side;
  private final Map<String, VmLock> locks = new ConcurrentHashMap<>();

  /** @param side which migrations these locks serialise, for the refusal ("outgoing", "incoming") */
  MigrationLocks(String side) {
    this.side = side;
  }

  /** Held until closed: taken by try-with-resources, in the thread that closes it. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  /** Takes the lock of {@code vm} for {@code what}, waiting at most {@code wait}; CONFLICT on expiry. */
  Held take(String vm, String what, Duration wait) {
    VmLock l = locks.computeIfAbsent(vm, k -> new VmLock());
    boolean got;
    try {
      got = l.lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted waiting to " + what + " of vm " + vm, e);
    }
    if (!got) {
      throw new AgentException(Kind.CONFLICT, "cannot " + what + " of vm " + vm + ": its " + side + " migration is busy with "
          + l.holder + " for " + (System.nanoTime() - l.sinceNanos) / 1_000_000 + " ms; gave up waiting after "
          + wait.toMillis() + " ms");
    }
    String outer = l.holder;
    long outerSince = l.sinceNanos;
    l.holder = what;
    l.sinceNanos = System.nanoTime();
    return () -> {
      l.holder = outer;
      l.sinceNanos = outerSince;
      l.lock.unlock();
    };
  }

  private static final class VmLock {
    final ReentrantLock lock = new ReentrantLock();
    /** what holds the lock, and since when: for the message of whoever waits in vain */
    volatile String holder = "nothing";
    volatile long sinceNanos = System.nanoTime();
  }
}
