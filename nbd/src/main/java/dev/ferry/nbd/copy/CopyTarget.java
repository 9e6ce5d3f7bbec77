package dev.ferry.nbd.copy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where one connection of a copy writes: each worker of a {@link DiskCopy} opens its own, so an
 * implementation need not be thread-safe, but several may write one image at once (at disjoint
 * ranges).
 */
public interface CopyTarget extends AutoCloseable {

  /** Writes all of {@code data} at {@code offset}. */
  void write(long offset, ByteBuffer data) throws IOException;

  /** Makes {@code [offset, offset + length)} read as zeroes, without sending them anywhere. */
  void zero(long offset, long length) throws IOException;

  /** Makes this target's writes durable. */
  void flush() throws IOException;

  @Override
  void close() throws IOException;
}
