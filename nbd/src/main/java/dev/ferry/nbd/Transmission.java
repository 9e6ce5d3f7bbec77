package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection: several requests in flight, told apart by their
 * cookies (the spec's handles), and one reader thread that takes each reply message off the
 * wire and hands it to the request its cookie names, in whatever order the server answers.
 *
 * <p>Senders take a slot (at most {@link NbdOptions#maxInFlight()} requests wait for replies, the
 * bound libnbd also keeps), register the request under a fresh cookie and write it, under one
 * send lock so that a write's payload is never interleaved with another request. The reader
 * completes each request's future once its last reply message has arrived; a command error
 * fails that future only. Anything else (a reply no request is waiting for, a malformed reply,
 * a hang-up, {@link NbdOptions#ioTimeout()} without a byte while requests wait) breaks the
 * connection: the socket is closed and every request in flight, and every later one, fails.
 *
 * <p>The socket blocks; the timeout is a watchdog's, which looks at the wire's last progress a
 * few times per timeout and closes the socket to wake the blocked threads.
 */
final class Transmission {

  private static final Logger log = LoggerFactory.getLogger(Transmission.class);

  /** One daemon thread watches every connection of the JVM: its checks are a few reads. */
  private static final ScheduledExecutorService WATCHDOG =
      Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
          .name("nbd-watchdog").unstarted(r));

  enum State {
    /** commands may be sent */
    OPEN,
    /** a protocol, I/O or timeout failure closed the socket; every call fails */
    BROKEN,
    /** closed by the caller, after {@code NBD_CMD_DISC} when possible */
    CLOSED
  }

  private final Peer peer;
  private final Wire wire;
  private final Duration ioTimeout;
  private final Semaphore slots;
  private final ReentrantLock sendLock = new ReentrantLock();
  private final Object stateLock = new Object();
  private final Map<Long, InFlight<?>> inFlight = new TreeMap<>(); // by cookie; stateLock
  private long nextCookie = 1; // sendLock
  private volatile State state = State.OPEN;
  private volatile NbdException brokenBy;
  private final ScheduledFuture<?> watchdog;

  Transmission(Peer peer, Wire wire, NbdOptions options) {
    this.peer = peer;
    this.wire = wire;
    this.ioTimeout = options.ioTimeout();
    this.slots = new Semaphore(options.maxInFlight());
    wire.toBlocking();
    long period = Math.clamp(ioTimeout.toMillis() / 4, 5, 1000);
    this.watchdog = WATCHDOG.scheduleWithFixedDelay(this::checkProgress, period, period,
        TimeUnit.MILLISECONDS);
    Thread.ofPlatform().daemon().name("nbd-reader-" + peer.exportName()).start(this::readReplies);
  }

  State state() {
    return state;
  }

  /**
   * Sends a request and returns what its reply will complete; {@code payload} (a write's data)
   * follows the header and is consumed. Blocks while {@code maxInFlight} requests wait.
   *
   * @throws NbdConnectionException if the connection is broken or closed (nothing is sent)
   */
  <T> CompletableFuture<T> submit(int type, long offset, int length, ByteBuffer payload,
      InFlight<T> request) {
    slots.acquireUninterruptibly();
    sendLock.lock();
    try {
      long cookie;
      synchronized (stateLock) {
        if (state != State.OPEN) {
          slots.release();
          throw closedException();
        }
        cookie = nextCookie++;
        if (inFlight.isEmpty()) {
          wire.touch(); // the server's time to answer starts now, not at the last reply
        }
        inFlight.put(cookie, request);
      }
      String name = Request.commandName(type);
      log.debug("nbd {} -> {} cookie {} offset {} length {}", peer, name, cookie, offset, length);
      try {
        wire.write(Request.encode(0, type, cookie, offset, length), name);
        if (payload != null) {
          wire.write(payload, "the data of " + name);
        }
      } catch (NbdException e) {
        fail(e);
      }
    } finally {
      sendLock.unlock();
    }
    return request.future;
  }

  /** Sends {@code NBD_CMD_DISC} if no sender is mid-request, fails what is in flight, closes. */
  void close() {
    List<InFlight<?>> dropped;
    synchronized (stateLock) {
      if (state != State.OPEN) {
        wire.close();
        return;
      }
      state = State.CLOSED;
      dropped = drain();
    }
    if (sendLock.tryLock()) {
      try {
        wire.write(Request.encode(0, Protocol.NBD_CMD_DISC, nextCookie++, 0, 0), "NBD_CMD_DISC");
        log.debug("nbd {} -> NBD_CMD_DISC", peer);
      } catch (NbdException e) {
        log.debug("nbd {}: NBD_CMD_DISC not sent: {}", peer, e.getMessage());
      } finally {
        sendLock.unlock();
      }
    }
    watchdog.cancel(false);
    wire.close();
    NbdException closed = closedException();
    dropped.forEach(r -> r.future.completeExceptionally(closed));
  }

  /** The exception for a call on a connection that is no longer open. */
  NbdConnectionException closedException() {
    return switch (state) {
      case OPEN -> throw new IllegalStateException("the connection is open");
      case BROKEN -> NbdConnectionException.closed(peer.address(), peer.exportName(),
          "broken by an earlier failure: " + (brokenBy == null ? "?" : brokenBy.getMessage()),
          brokenBy);
      case CLOSED -> NbdConnectionException.closed(peer.address(), peer.exportName(),
          "closed by the client", null);
    };
  }

  private void readReplies() {
    try {
      while (state == State.OPEN) {
        Reply reply = Reply.read(wire, peer);
        InFlight<?> request;
        synchronized (stateLock) {
          request = inFlight.get(reply.cookie());
          if (request == null) {
            throw peer.protocolError("reply with cookie %d, which no request in flight has "
                + "(in flight: %s)", reply.cookie(), inFlight.keySet());
          }
        }
        if (request.accept(reply, wire)) {
          request.settle();
          boolean removed;
          synchronized (stateLock) {
            removed = inFlight.remove(reply.cookie()) != null; // not if fail() drained it
          }
          if (removed) {
            slots.release();
          }
        }
      }
    } catch (NbdException e) {
      fail(e);
    } catch (RuntimeException e) {
      fail(NbdConnectionException.ioFailed(peer.address(), peer.exportName(), "reading replies",
          e));
    }
  }

  private void checkProgress() {
    String doing;
    synchronized (stateLock) {
      if (state != State.OPEN) {
        watchdog.cancel(false);
        return;
      }
      if (inFlight.isEmpty() && !sendLock.isLocked()) {
        return; // an idle connection has no deadline
      }
      doing = inFlight.isEmpty() ? "sending a request"
          : "reading the reply to " + inFlight.values().iterator().next().command;
    }
    if (System.nanoTime() - wire.lastProgress() > ioTimeout.toNanos()) {
      fail(new NbdTimeoutException(peer.address(), peer.exportName(), doing, ioTimeout));
    }
  }

  /** Breaks the connection: closes the socket and fails every request in flight with {@code e}. */
  private void fail(NbdException e) {
    List<InFlight<?>> dropped;
    synchronized (stateLock) {
      if (state != State.OPEN) {
        return; // closed or broken already: the socket closing is what woke the reader
      }
      brokenBy = e;
      state = State.BROKEN;
      dropped = drain();
    }
    log.info("nbd connection to {} broken: {}", peer, e.getMessage());
    watchdog.cancel(false);
    wire.close();
    dropped.forEach(r -> r.future.completeExceptionally(e));
  }

  private List<InFlight<?>> drain() {
    List<InFlight<?>> dropped = new ArrayList<>(inFlight.values());
    inFlight.clear();
    slots.release(dropped.size());
    return dropped;
  }
}
