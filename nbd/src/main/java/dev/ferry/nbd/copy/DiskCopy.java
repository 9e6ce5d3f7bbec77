package dev.ferry.nbd.copy;

import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one {@link CopyPlan}: {@link Options#connections()} source connections and as many
 * {@link CopyTarget}s, each shared by {@link Options#inFlight()} workers; the workers take the
 * plan's pieces in order (data split into requests of {@link Options#requestSize()}) and copy
 * them; zero ranges are zeroed on the target, or skipped when the target reads as zero already,
 * and never read or sent.
 *
 * <p>Why workers sharing a connection: {@link NbdClient} routes replies by cookie, so each
 * worker's read is a request in flight on its connection while other workers write what they
 * read; a connection is never idle between a reply and the next request, and the server reads
 * ahead for several requests. Connections add parallelism on the server's side (QEMU serves one
 * connection's requests in coroutines of one thread). The same holds for a target behind an NBD
 * server: with a connection per worker, each carried one write at a time and QEMU's server found
 * its socket empty after every request (1 GiB into a new qcow2 through qemu-storage-daemon:
 * 6.5-7.2 s with 32 target connections, 5.1-5.2 s with 4 shared by 8 workers each).
 *
 * <p>Progress counts bytes actually moved ({@link #copiedBytes()}) and bytes not sent because
 * they read as zero ({@link #skippedBytes()}). {@link #cancel()} stops every worker at its next
 * piece; {@link #run()} then throws {@link CancellationException}.
 */
public final class DiskCopy {

  /** Opens one connection or target; called once per worker. */
  @FunctionalInterface
  public interface Opener<T> {
    T open() throws IOException, NbdException;
  }

  /**
   * @param connections source connections
   * @param requestSize bytes per read request, e.g. 4 MiB; within the server's maximum
   * @param bytesPerSecond bandwidth cap over all connections, 0 for none
   * @param targetIsZero the target reads as zero where not written (a new image), so zero
   *     ranges need no request at all
   * @param inFlight workers per connection, each with one read in flight and its own target
   */
  public record Options(int connections, int requestSize, long bytesPerSecond,
      boolean targetIsZero, int inFlight) {

    /** Options with {@link #DEFAULT_IN_FLIGHT} requests in flight per connection. */
    public Options(int connections, int requestSize, long bytesPerSecond, boolean targetIsZero) {
      this(connections, requestSize, bytesPerSecond, targetIsZero, DEFAULT_IN_FLIGHT);
    }

    /** Requests in flight per connection by default; see {@link #defaults()}. */
    public static final int DEFAULT_IN_FLIGHT = 8;

    public Options {
      if (connections < 1 || connections > 64) {
        throw new IllegalArgumentException("connections must be 1..64: " + connections);
      }
      if (inFlight < 1 || inFlight > 64) {
        throw new IllegalArgumentException("inFlight must be 1..64: " + inFlight);
      }
      if (requestSize < 4096 || requestSize > 32 << 20) {
        throw new IllegalArgumentException("requestSize must be 4 KiB..32 MiB: " + requestSize);
      }
      if (bytesPerSecond < 0) {
        throw new IllegalArgumentException("negative bandwidth: " + bytesPerSecond);
      }
    }

    /**
     * 4 connections, 8 requests of 256 KiB in flight on each, no cap, a new (zero) target.
     * Tuned on a loaded 2-core machine, 1 GiB full image from qemu-nbd: 256 KiB requests beat
     * 1 and 4 MiB ones (about 1.5-2x), and 4 connections of 8 beat 2 of 16, 8 of 8 and 4 of 16
     * (docs/bench/copy.md has the side-by-side figures).
     */
    public static Options defaults() {
      return new Options(4, 256 << 10, 0, true, DEFAULT_IN_FLIGHT);
    }

    /**
     * For a target whose writes bypass the page cache (a {@link RawFileTarget}, or a writer daemon
     * with {@code cache.direct=on}): 4 connections, 2 requests of 2 MiB in flight on each, no cap,
     * a new (zero) target. A direct write into a sparse file's hole holds the file's lock until
     * the disk has it, so few large writes beat many small ones; reads of 2 MiB cost QEMU's server
     * no more than of 256 KiB. 1 GiB full image from qemu-storage-daemon into a new raw file, side
     * by side on a 2-core VM: 0.86-1.10 s, against 1.6-1.9 s with {@link #defaults()} and 1.3-1.4 s
     * for {@code nbdcopy --flush}.
     */
    public static Options forDirectWrites() {
      return new Options(4, 2 << 20, 0, true, 2);
    }

    /** These options with {@code requests} in flight per connection. */
    public Options withInFlight(int requests) {
      return new Options(connections, requestSize, bytesPerSecond, targetIsZero, requests);
    }
  }

  private final CopyPlan plan;
  private final Opener<NbdClient> source;
  private final Opener<CopyTarget> target;
  private final Options options;
  private final List<CopyRange> pieces;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicLong copied = new AtomicLong();
  private final AtomicLong skipped = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean cancelled;

  public DiskCopy(CopyPlan plan, Opener<NbdClient> source, Opener<CopyTarget> target,
      Options options) {
    this.plan = plan;
    this.source = source;
    this.target = target;
    this.options = options;
    this.pieces = split(plan, options.requestSize());
  }

  /** Bytes the plan will send. */
  public long plannedBytes() {
    return plan.dataBytes();
  }

  /** Bytes read from the source and written to the target so far. */
  public long copiedBytes() {
    return copied.get();
  }

  /** Bytes that read as zero and were not sent, so far. */
  public long skippedBytes() {
    return skipped.get();
  }

  /** Stops the copy at the next piece of each worker. Idempotent. */
  public void cancel() {
    cancelled = true;
  }

  /**
   * Copies the whole plan, flushing each target; returns when all workers are done.
   *
   * @throws CancellationException if {@link #cancel()} was called before the end
   * @throws IOException the first failure of any worker (the others stop)
   */
  public void run() throws IOException, InterruptedException {
    Throttle throttle = new Throttle(options.bytesPerSecond());
    int workers = Math.max(1, Math.min(options.connections() * options.inFlight(),
        pieces.size()));
    int connections = Math.min(options.connections(), workers);
    List<NbdClient> clients = new ArrayList<>();
    List<CopyTarget> targets = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    try {
      for (int c = 0; c < connections; c++) {
        targets.add(target.open());
      }
      // the first target tells whether one flush at the end covers all targets' writes
      boolean flushOnce = targets.getFirst().flushCoversImage();
      openAll(connections, clients);
      for (int i = 0; i < workers; i++) {
        NbdClient from = clients.get(i % connections);
        CopyTarget to = targets.get(i % connections);
        threads.add(Thread.ofPlatform().name("ferry-copy-" + i).start(() -> work(from, to, throttle)));
      }
      join(threads);
      if (!cancelled && failure.get() == null) {
        for (CopyTarget t : flushOnce ? targets.subList(0, 1) : targets) {
          t.flush();
        }
      }
    } catch (NbdException e) {
      failure.compareAndSet(null, e);
      cancelled = true;
      join(threads);
    } catch (IOException e) {
      failure.compareAndSet(null, e);
      cancelled = true;
      join(threads);
    } finally {
      clients.forEach(NbdClient::close);
      for (CopyTarget t : targets) {
        try {
          t.close();
        } catch (IOException e) {
          failure.compareAndSet(null, e);
        }
      }
    }
    Throwable f = failure.get();
    if (f instanceof IOException io) {
      throw io;
    }
    if (f instanceof NbdException nbd) {
      throw new IOException(nbd.getMessage(), nbd);
    }
    if (f != null) {
      throw new IOException("copy failed: " + f, f);
    }
    if (cancelled) {
      throw new CancellationException("copy cancelled after " + copied.get() + " bytes");
    }
  }

  /**
   * Opens the source connections at once: each is a TCP (and maybe TLS) handshake and an option
   * negotiation, round trips that on a small copy cost as much as its data when taken in turn.
   */
  private void openAll(int connections, List<NbdClient> clients)
      throws IOException, NbdException, InterruptedException {
    NbdClient[] opened = new NbdClient[connections];
    Throwable[] errors = new Throwable[connections];
    List<Thread> openers = new ArrayList<>();
    for (int c = 1; c < connections; c++) {
      int k = c;
      openers.add(Thread.ofVirtual().start(() -> {
        try {
          opened[k] = source.open();
        } catch (Throwable t) {
          errors[k] = t;
        }
      }));
    }
    try {
      opened[0] = source.open();
    } finally {
      for (Thread t : openers) {
        t.join();
      }
      for (NbdClient c : opened) {
        if (c != null) {
          clients.add(c);
        }
      }
    }
    for (Throwable t : errors) {
      switch (t) {
        case null -> { }
        case IOException io -> throw io;
        case NbdException nbd -> throw nbd;
        case RuntimeException re -> throw re;
        case Error e -> throw e;
        default -> throw new IOException("opening a source connection failed: " + t, t);
      }
    }
  }

  private void join(List<Thread> threads) throws InterruptedException {
    try {
      for (Thread t : threads) {
        t.join();
      }
    } catch (InterruptedException e) {
      cancelled = true;
      for (Thread t : threads) {
        t.join();
      }
      throw e;
    }
  }

  /** One worker: a read in flight on {@code from} at a time, written to {@code to}, which other workers share. */
  private void work(NbdClient from, CopyTarget to, Throttle throttle) {
    try {
      // page-aligned, so that a target writing with O_DIRECT can take it as it is
      ByteBuffer buffer = ByteBuffer.allocateDirect(options.requestSize() + 4096).alignedSlice(4096);
      while (!cancelled && failure.get() == null) {
        int i = next.getAndIncrement();
        if (i >= pieces.size()) {
          break;
        }
        CopyRange piece = pieces.get(i);
        if (piece.zero()) {
          if (!options.targetIsZero()) {
            to.zero(piece.offset(), piece.length());
          }
          skipped.addAndGet(piece.length());
          continue;
        }
        if (!throttle.acquire(piece.length(), () -> cancelled || failure.get() != null)) {
          break;
        }
        buffer.clear().limit((int) piece.length());
        from.read(piece.offset(), buffer);
        buffer.flip();
        to.write(piece.offset(), buffer);
        copied.addAndGet(piece.length());
      }
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    }
  }

  /** Data ranges cut into requests; zero ranges stay whole (they cost one request or none). */
  static List<CopyRange> split(CopyPlan plan, int requestSize) {
    List<CopyRange> out = new ArrayList<>();
    for (CopyRange r : plan.ranges()) {
      if (r.zero()) {
        out.add(r);
        continue;
      }
      for (long at = r.offset(); at < r.end(); at += requestSize) {
        out.add(new CopyRange(at, Math.min(requestSize, r.end() - at), false));
      }
    }
    return List.copyOf(out);
  }
}
