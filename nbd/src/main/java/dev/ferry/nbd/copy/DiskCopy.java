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
 * Runs one {@link CopyPlan}: several workers, each with its own source connection and its own
 * {@link CopyTarget}, take the plan's pieces in order (data split into requests of
 * {@link Options#requestSize()}) and copy them; zero ranges are zeroed on the target, or skipped
 * when the target reads as zero already, and never read or sent.
 *
 * <p>Why connections rather than pipelining one: {@link NbdClient} keeps one request in flight,
 * and a read-only export (qemu-nbd {@code --shared}, qemu-storage-daemon) serves connections in
 * parallel, so N connections give N requests in flight with no reply routing. A worker's read
 * and its write overlap other workers' network time.
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
   * @param connections workers, each one source connection and one target
   * @param requestSize bytes per read request, e.g. 4 MiB; within the server's maximum
   * @param bytesPerSecond bandwidth cap over all connections, 0 for none
   * @param targetIsZero the target reads as zero where not written (a new image), so zero
   *     ranges need no request at all
   */
  public record Options(int connections, int requestSize, long bytesPerSecond,
      boolean targetIsZero) {

    public Options {
      if (connections < 1 || connections > 64) {
        throw new IllegalArgumentException("connections must be 1..64: " + connections);
      }
      if (requestSize < 4096 || requestSize > 32 << 20) {
        throw new IllegalArgumentException("requestSize must be 4 KiB..32 MiB: " + requestSize);
      }
      if (bytesPerSecond < 0) {
        throw new IllegalArgumentException("negative bandwidth: " + bytesPerSecond);
      }
    }

    /** 4 connections, 4 MiB requests, no cap, a new (zero) target. */
    public static Options defaults() {
      return new Options(4, 4 << 20, 0, true);
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
    int workers = (int) Math.max(1, Math.min(options.connections(), pieces.size()));
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      threads.add(Thread.ofPlatform().name("ferry-copy-" + i).start(() -> work(throttle)));
    }
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

  private void work(Throttle throttle) {
    try (NbdClient from = source.open(); CopyTarget to = target.open()) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(options.requestSize());
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
        throttle.acquire(piece.length());
        buffer.clear().limit((int) piece.length());
        from.read(piece.offset(), buffer);
        buffer.flip();
        to.write(piece.offset(), buffer);
        copied.addAndGet(piece.length());
      }
      if (!cancelled && failure.get() == null) {
        to.flush();
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
