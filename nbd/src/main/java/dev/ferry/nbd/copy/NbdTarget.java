package dev.ferry.nbd.copy;

import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A target image behind a local NBD server (e.g. {@code qemu-storage-daemon} exporting a new
 * qcow2 writable): QEMU's block layer writes the format, and zeroes become
 * {@code NBD_CMD_WRITE_ZEROES}, which QEMU turns into unallocated or zero clusters.
 */
public final class NbdTarget implements CopyTarget {

  private final NbdClient client;

  /** Takes over {@code client}; closing this closes it. */
  public NbdTarget(NbdClient client) {
    if (client.export().isReadOnly()) {
      throw new IllegalArgumentException(client + " is read-only: not a copy target");
    }
    this.client = client;
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    try {
      client.write(offset, data);
    } catch (NbdException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public void zero(long offset, long length) throws IOException {
    try {
      if (client.export().canWriteZeroes()) {
        client.writeZeroes(offset, length);
        return;
      }
      ByteBuffer zeroes = ByteBuffer.allocate((int) Math.min(length, 1 << 20));
      for (long at = offset; at < offset + length; at += zeroes.capacity()) {
        client.write(at, zeroes.clear().limit((int) Math.min(zeroes.capacity(),
            offset + length - at)));
      }
    } catch (NbdException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public void flush() throws IOException {
    try {
      client.flush();
    } catch (NbdException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    client.close();
  }
}
