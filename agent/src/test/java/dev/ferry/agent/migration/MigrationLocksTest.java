package dev.ferry.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The migration locks were plain {@code synchronized} blocks: a request behind one stuck on an
 * unanswering QEMU waited without end. They now give up at the caller's deadline and say why.
 */
@SuppressWarnings("try") // locks held by try-with-resources, never referenced inside
class MigrationLocksTest {

  private final MigrationLocks locks = new MigrationLocks("outgoing");

  @Test
  void take_heldElsewhere_conflictNamesHolderAfterDeadline() throws Exception {
    var held = new CountDownLatch(1);
    var release = new CountDownLatch(1);
    CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
      try (MigrationLocks.Held h = locks.take("vm1", "cancel the migration", Duration.ofSeconds(1))) {
        held.countDown();
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(held.await(5, TimeUnit.SECONDS));
    long t0 = System.nanoTime();
    var e = assertThrows(AgentException.class, () -> locks.take("vm1", "complete the migration", Duration.ofMillis(200)));
    long waited = (System.nanoTime() - t0) / 1_000_000;
    release.countDown();
    holder.get(5, TimeUnit.SECONDS);

    assertEquals(Kind.CONFLICT, e.kind());
    assertTrue(waited >= 190, "gave up after " + waited + " ms");
    assertTrue(e.getMessage().startsWith("cannot complete the migration of vm vm1: its outgoing migration is busy with"
        + " cancel the migration for "), e.getMessage());
    assertTrue(e.getMessage().endsWith("gave up waiting after 200 ms"), e.getMessage());
  }

  @Test
  void take_afterRelease_succeedsAtOnce() {
    try (MigrationLocks.Held h = locks.take("vm1", "start the migration", Duration.ofMillis(10))) {
      // released at the end of the block
    }
    CompletableFuture.runAsync(() -> {
      try (MigrationLocks.Held h = locks.take("vm1", "cancel the migration", Duration.ofMillis(10))) {
        // another thread takes it at once
      }
    }).join();
  }

  @Test
  void take_sameThreadAgain_reentersAndRestoresHolder() throws Exception {
    try (MigrationLocks.Held outer = locks.take("vm1", "prepare the incoming migration", Duration.ofMillis(10))) {
      try (MigrationLocks.Held inner = locks.take("vm1", "roll back the incoming migration", Duration.ofMillis(10))) {
        // a rollback inside a failed prepare
      }
      var e = CompletableFuture.supplyAsync(() -> assertThrows(AgentException.class,
          () -> locks.take("vm1", "finish the incoming migration", Duration.ofMillis(50)))).get(5, TimeUnit.SECONDS);
      assertTrue(e.getMessage().contains("busy with prepare the incoming migration for "), e.getMessage());
    }
  }

  @Test
  void take_otherVm_notBlocked() throws Exception {
    try (MigrationLocks.Held h = locks.take("vm1", "start the migration", Duration.ofMillis(10))) {
      CompletableFuture.runAsync(() -> {
        try (MigrationLocks.Held other = locks.take("vm2", "start the migration", Duration.ofMillis(10))) {
          // a different vm has its own lock
        }
      }).get(5, TimeUnit.SECONDS);
    }
  }
}
