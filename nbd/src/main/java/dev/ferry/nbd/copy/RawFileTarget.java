package dev.ferry.nbd.copy;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image written with positional writes: the format is the bytes, so no QEMU is needed, and
 * ranges never written stay holes in a sparse file. Zeroing writes zero bytes (Java cannot punch
 * holes); a cold copy into a new file never zeroes, as the file reads as zero already.
 *
 * <p>Aligned writes from aligned buffers bypass the page cache ({@code O_DIRECT}) where the file
 * system allows it. Through the page cache, a copy of 1 GiB took 0.8-3.8 s on a 2-core VM whose
 * balloon reports free pages to its host: each new page-cache page was a page the host had to
 * fault in again, and the final fdatasync still had all of it to write. {@code nbdcopy} avoids
 * both by starting each range's writeback and dropping its pages behind it
 * ({@code sync_file_range}, {@code posix_fadvise}), which Java cannot call; direct writes of
 * 1 MiB and more cost the same disk work without the page cache (0.6-0.8 s there). Writes that are
 * not aligned (an image's unaligned tail, a heap buffer) go through the page cache; the kernel
 * keeps the two coherent.
 */
public final class RawFileTarget implements CopyTarget {

  private static final ByteBuffer ZEROES =
      ByteBuffer.allocateDirect((1 << 20) + (1 << 16)).alignedSlice(1 << 16).asReadOnlyBuffer();

  private final FileChannel channel;
  private final FileChannel direct; // null where the file system refuses O_DIRECT
  private final int alignment;

  /** Opens {@code image}, which must exist with its final size. */
  public RawFileTarget(Path image) throws IOException {
    this(image, true);
  }

  /**
   * Opens {@code image}; with {@code bypassCache} false every write goes through the page cache,
   * for a writer whose data is read back at once (its hashes) and small.
   */
  public RawFileTarget(Path image, boolean bypassCache) throws IOException {
    this.channel = FileChannel.open(image, StandardOpenOption.WRITE);
    FileChannel d = null;
    int a = 0;
    if (bypassCache) {
      try {
        a = (int) Files.getFileStore(image).getBlockSize();
        if (a > 0 && Integer.bitCount(a) == 1 && a <= 1 << 16) {
          d = FileChannel.open(image, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        }
      } catch (IOException | UnsupportedOperationException e) {
        d = null; // tmpfs and some others: buffered writes only
      }
    }
    this.direct = d;
    this.alignment = d == null ? 0 : a;
  }

  /**
   * Whether the file system of {@code image} (which must exist) takes direct writes: tmpfs before
   * Linux 6.6 and some others refuse {@code O_DIRECT}.
   */
  public static boolean directWrites(Path image) {
    try (FileChannel ignored = FileChannel.open(image, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whether aligned writes bypass the page cache. */
  public boolean direct() {
    return direct != null;
  }

  /** What {@link #write} needs to bypass the page cache: offset, length and address multiples of it; 0 if it never does. */
  public int alignment() {
    return alignment;
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    FileChannel to = aligned(offset, data) ? direct : channel;
    long at = offset;
    while (data.hasRemaining()) {
      at += to.write(data, at);
    }
  }

  private boolean aligned(long offset, ByteBuffer data) {
    return direct != null && data.isDirect() && offset % alignment == 0
        && data.remaining() % alignment == 0 && data.alignmentOffset(data.position(), alignment) == 0;
  }

  @Override
  public void zero(long offset, long length) throws IOException {
    long at = offset;
    while (at < offset + length) {
      ByteBuffer z = ZEROES.duplicate();
      z.limit((int) Math.min(z.capacity(), offset + length - at));
      write(at, z);
      at += z.limit();
    }
  }

  /** One fdatasync: the data of direct writes is on the disk already, the blocks they allocated are not. */
  @Override
  public void flush() throws IOException {
    channel.force(false);
  }

  /** One fdatasync covers every descriptor's writes to the file. */
  @Override
  public boolean flushCoversImage() {
    return true;
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      if (direct != null) {
        direct.close();
      }
    }
  }
}
