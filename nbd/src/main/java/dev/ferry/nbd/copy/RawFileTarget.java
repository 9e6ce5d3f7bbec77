package dev.ferry.nbd.copy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A raw image written with positional writes: the format is the bytes, so no QEMU is needed, and
 * ranges never written stay holes in a sparse file. Zeroing writes zero bytes (Java cannot punch
 * holes); a cold copy into a new file never zeroes, as the file reads as zero already.
 */
public final class RawFileTarget implements CopyTarget {

  private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

  private final FileChannel channel;

  /** Opens {@code image}, which must exist with its final size. */
  public RawFileTarget(Path image) throws IOException {
    this.channel = FileChannel.open(image, StandardOpenOption.WRITE);
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    long at = offset;
    while (data.hasRemaining()) {
      at += channel.write(data, at);
    }
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
    channel.close();
  }
}
