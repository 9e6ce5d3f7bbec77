package dev.ferry.qmp;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Numbers the events of one connection, keeps the latest ones, and hands them to listeners.
 *
 * <p>Listeners run on one dispatcher thread per client, in arrival order, never on the reader: a
 * slow listener delays later events (of every listener of this client), not replies, and one that
 * throws is logged and keeps its subscription. A listener sees the events that arrive after it
 * subscribed: the reader numbers an event and picks its recipients under one lock.
 *
 * <p>{@link #await} closes the race between a command and the event it causes (QEMU may emit
 * {@code MIGRATION} or {@code BLOCK_JOB_READY} before the caller gets round to waiting): each
 * thread has a cursor in the event sequence, set when it sends a command and moved past each event
 * {@code await} returns to it, and {@code await} first looks through the kept events from that
 * cursor on.
 */
final class EventHub {

  /** Events kept for {@link #await}; QEMU emits a handful per second at most, mostly far fewer. */
  static final int HISTORY_LIMIT = 1024;

  private static final Logger log = LoggerFactory.getLogger(EventHub.class);

  private record Sequenced(long seq, QmpEvent event) {}

  private record Closed(String reason, Throwable cause) {}

  private final Path socket;
  private final ExecutorService dispatcher;
  private final ThreadLocal<Long> cursor = new ThreadLocal<>();
  private final ReentrantLock lock = new ReentrantLock();
  // guarded by lock
  private final ArrayDeque<Sequenced> history = new ArrayDeque<>();
  private final List<Subscription> subscriptions = new ArrayList<>();
  private final List<CompletableFuture<Sequenced>> waiters = new ArrayList<>();
  private long received;
  private Closed closed;

  EventHub(Path socket) {
    this.socket = socket;
    this.dispatcher = Executors.newSingleThreadExecutor(
        Thread.ofVirtual().name("qmp-events " + socket).factory());
  }

  /** Called by a thread about to send a command: its later waits start from here. */
  void markCommandSent() {
    lock.lock();
    try {
      cursor.set(received);
    } finally {
      lock.unlock();
    }
  }

  /** Called by the reader for each event. */
  void publish(QmpEvent event) {
    Sequenced sequenced;
    List<Subscription> recipients;
    lock.lock();
    try {
      sequenced = new Sequenced(received++, event);
      history.addLast(sequenced);
      if (history.size() > HISTORY_LIMIT) {
        history.removeFirst();
      }
      recipients = List.copyOf(subscriptions);
    } finally {
      lock.unlock();
    }
    if (!recipients.isEmpty()) {
      dispatch(() -> recipients.forEach(subscription -> subscription.deliver(sequenced)));
    }
  }

  /** Subscribes to all events ({@code name} null) or to those of one name. */
  QmpSubscription subscribe(String name, Consumer<QmpEvent> listener) {
    Subscription subscription = new Subscription(name, event -> listener.accept(event.event()));
    lock.lock();
    try {
      subscriptions.add(subscription);
    } finally {
      lock.unlock();
    }
    return subscription;
  }

  QmpEvent await(Predicate<QmpEvent> match, Duration deadline) {
    CompletableFuture<Sequenced> found = new CompletableFuture<>();
    Subscription waiter = new Subscription(null, event -> {
      try {
        if (match.test(event.event())) {
          found.complete(event);
        }
      } catch (RuntimeException e) {
        found.completeExceptionally(e); // the caller's predicate broke: tell the caller
      }
    });
    List<Sequenced> backlog;
    Closed closedNow;
    lock.lock();
    try {
      Long from = cursor.get();
      long start = from == null ? received : from;
      backlog = history.stream().filter(event -> event.seq() >= start).toList();
      closedNow = closed;
      if (closedNow == null) {
        subscriptions.add(waiter);
        waiters.add(found);
      }
    } finally {
      lock.unlock();
    }
    try {
      // the predicate is the caller's code: run it outside the lock the reader needs
      for (Sequenced event : backlog) {
        if (match.test(event.event())) {
          return take(event);
        }
      }
      if (closedNow != null) {
        throw QmpConnectionException.closedWhileAwaitingEvent(socket, closedNow.reason(),
            closedNow.cause());
      }
      return take(Futures.await(found, deadline,
          () -> QmpTimeoutException.noEvent(socket, deadline), "a qmp event from " + socket));
    } finally {
      waiter.close();
      lock.lock();
      try {
        waiters.remove(found);
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Ends event delivery. Events already received still reach their listeners; waiters fail only
   * after them, so an event that arrived just before the connection ended is not lost to them.
   */
  void close(String reason, Throwable cause) {
    List<CompletableFuture<Sequenced>> waiting;
    lock.lock();
    try {
      if (closed != null) {
        return;
      }
      closed = new Closed(reason, cause);
      waiting = List.copyOf(waiters);
    } finally {
      lock.unlock();
    }
    dispatch(() -> waiting.forEach(waiter -> waiter.completeExceptionally(
        QmpConnectionException.closedWhileAwaitingEvent(socket, reason, cause))));
    dispatcher.shutdown();
  }

  private QmpEvent take(Sequenced event) {
    cursor.set(event.seq() + 1);
    return event.event();
  }

  private void dispatch(Runnable task) {
    try {
      dispatcher.execute(task);
    } catch (RejectedExecutionException e) {
      log.debug("qmp events from {} are no longer delivered: connection closed", socket);
    }
  }

  private final class Subscription implements QmpSubscription {

    private final String name;
    private final Consumer<Sequenced> sink;
    private volatile boolean active = true;

    Subscription(String name, Consumer<Sequenced> sink) {
      this.name = name;
      this.sink = sink;
    }

    void deliver(Sequenced event) {
      if (!active || (name != null && !name.equals(event.event().name()))) {
        return;
      }
      try {
        sink.accept(event);
      } catch (Exception e) {
        log.warn("qmp event listener failed on {} from {}", event.event().name(), socket, e);
      }
    }

    @Override
    public void close() {
      active = false;
      lock.lock();
      try {
        subscriptions.remove(this);
      } finally {
        lock.unlock();
      }
    }
  }
}
