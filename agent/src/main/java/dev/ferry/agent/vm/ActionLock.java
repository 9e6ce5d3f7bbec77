package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The lock that serialises what users ask of one VM (define, start, stop, delete), so a stop
 * never interleaves with a start. It may be held for as long as a graceful stop takes, so it is
 * never waited for without a deadline, and it remembers what holds it and since when: whoever
 * gives up waiting is told what the VM is busy with. Reentrant: an action may run another.
 */
final class ActionLock {

  private final String vm;
  private final ReentrantLock lock = new ReentrantLock();
  /** what holds the lock, and since when: for the message of whoever waits in vain */
  private volatile String holder = "nothing";
  private volatile long holderSinceNanos;

  ActionLock(String vm) {
    this.vm = vm;
  }

  /**
   * Runs {@code action} alone on the VM, waiting at most {@code wait} for the one under way;
   * {@code admit} runs first under the lock (to refuse a VM deleted meanwhile).
   */
  <T> T exclusive(String what, Duration wait, Runnable admit, Supplier<T> action) {
    boolean got;
    try {
      got = lock.tryLock(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted waiting to " + what + " vm " + vm, e);
    }
    if (!got) {
      throw new AgentException(Kind.CONFLICT, "cannot " + what + " vm " + vm + ": it is busy with " + holder + " for "
          + (System.nanoTime() - holderSinceNanos) / 1_000_000 + " ms; gave up waiting after " + wait.toMillis() + " ms");
    }
    String outer = holder;
    long outerSince = holderSinceNanos;
    holder = what;
    holderSinceNanos = System.nanoTime();
    try {
      admit.run();
      return action.get();
    } finally {
      holder = outer;
      holderSinceNanos = outerSince;
      lock.unlock();
    }
  }
}
