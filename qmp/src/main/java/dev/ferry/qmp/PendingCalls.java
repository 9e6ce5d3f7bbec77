package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Commands sent and not yet answered, by id.
 *
 * <p>Exactly one of four paths settles a call: its reply, its deadline, the end of the
 * connection, or the caller cancelling its future. Whichever removes the entry from the map
 * settles the future; the others find nothing to remove. So a reply that arrives after the
 * deadline finds no entry and is dropped.
 *
 * <p>Futures are completed on a fresh virtual thread: code a caller chained onto a future
 * ({@code thenApply}, {@code thenAccept}) then runs there and can never stall the reader, the
 * writer or the deadline timer.
 */
final class PendingCalls {

  /** Deadline timer shared by all clients; its tasks only remove an entry and hand off. */
  private static final ScheduledThreadPoolExecutor DEADLINES = deadlineTimer();

  record Call(long id, String command, Duration deadline, CompletableFuture<JsonNode> future) {}

  private final Path socket;
  private final AtomicLong lastId = new AtomicLong();
  private final ConcurrentHashMap<Long, Call> calls = new ConcurrentHashMap<>();

  PendingCalls(Path socket) {
    this.socket = socket;
  }

  long nextId() {
    return lastId.incrementAndGet();
  }

  /** Registers a call and starts its deadline. */
  Call register(long id, String command, Duration deadline) {
    Call call = new Call(id, command, deadline, new CompletableFuture<>());
    calls.put(id, call);
    ScheduledFuture<?> expiry =
        DEADLINES.schedule(() -> expire(call), deadline.toNanos(), TimeUnit.NANOSECONDS);
    call.future().whenComplete((value, failure) -> {
      expiry.cancel(false);
      calls.remove(id, call);
    });
    return call;
  }

  boolean isPending(Call call) {
    return calls.get(call.id()) == call;
  }

  /** Removes and returns the call with this id, or null if none is pending. */
  Call take(long id) {
    return calls.remove(id);
  }

  /** Removes this call; false if another path settled it first. */
  boolean take(Call call) {
    return calls.remove(call.id(), call);
  }

  /** Removes every pending call. */
  List<Call> takeAll() {
    List<Call> taken = new ArrayList<>();
    for (Long id : calls.keySet()) {
      Call call = calls.remove(id);
      if (call != null) {
        taken.add(call);
      }
    }
    return taken;
  }

  private void expire(Call call) {
    if (take(call)) {
      settle(call, QmpTimeoutException.noReply(socket, call.command(), call.deadline()));
    }
  }

  /** Completes a call that was taken from the map. */
  static void settle(Call call, JsonNode value) {
    Thread.ofVirtual().name("qmp-reply " + call.command())
        .start(() -> call.future().complete(value));
  }

  /** Fails a call that was taken from the map. */
  static void settle(Call call, QmpException failure) {
    Thread.ofVirtual().name("qmp-reply " + call.command())
        .start(() -> call.future().completeExceptionally(failure));
  }

  private static ScheduledThreadPoolExecutor deadlineTimer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "ferry-qmp-deadlines");
      thread.setDaemon(true);
      return thread;
    });
    // replies usually beat their deadlines: drop cancelled timers at once, not after 30 s
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }
}
