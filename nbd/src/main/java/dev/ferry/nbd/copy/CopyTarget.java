package dev.ferry.nbd.copy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a copy writes: a {@link DiskCopy} opens one per source connection and several workers
 * write through each at once (at disjoint ranges), so an implementation must be thread-safe;
 * several targets may write one image at once too.
 */
public interface CopyTarget extends AutoCloseable {

  /** Writes all of {@code data} at {@code offset}. */
  void write(long offset, ByteBuffer data) throws IOException;

  /** Makes {@code [offset, offset + length)} read as zeroes, without sending them anywhere. */
  void zero(long offset, long length) throws IOException;

  /** Makes this target's writes durable. */
  void flush() throws IOException;

  /**
   * Whether one {@link #flush()} makes the writes of every target of the same image durable (one
   * file: an fdatasync covers writes through any descriptor). Then a copy flushes once at its end
   * instead of once per worker: per-worker flushes of one file run while the other workers still
   * write, each syncing what is dirty so far, and cost a small copy more than its data.
   */
  default boolean flushCoversImage() {
    return false;
  }

  @Override
  void close() throws IOException;
}
