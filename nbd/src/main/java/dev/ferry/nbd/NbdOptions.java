package dev.ferry.nbd;

import java.time.Duration;
import java.util.Objects;

/**
 * Client settings, fixed for the life of a connection.
 *
 * @param connectTimeout bounds opening the socket
 * @param ioTimeout the longest the client waits for the server to send (or accept) the next byte,
 *     in the handshake and for every reply; like a socket timeout, not a deadline for a whole
 *     command
 * @param maxRequestSize the most bytes one {@code NBD_CMD_READ} asks for, and so the most data
 *     the client accepts in one reply; longer reads are split. The server's own maximum
 *     ({@code NBD_INFO_BLOCK_SIZE}), when lower, wins.
 */
public record NbdOptions(Duration connectTimeout, Duration ioTimeout, int maxRequestSize) {

  /** 32 MiB: QEMU's maximum payload, so one request per 32 MiB of a QEMU export. */
  public static final int DEFAULT_MAX_REQUEST_SIZE = 32 << 20;

  public NbdOptions {
    requirePositive(connectTimeout, "connectTimeout");
    requirePositive(ioTimeout, "ioTimeout");
    if (maxRequestSize < 512) {
      throw new IllegalArgumentException("maxRequestSize must be at least 512: " + maxRequestSize);
    }
  }

  /** 10 s to connect, 30 s I/O timeout, 32 MiB requests. */
  public static NbdOptions defaults() {
    return new NbdOptions(Duration.ofSeconds(10), Duration.ofSeconds(30),
        DEFAULT_MAX_REQUEST_SIZE);
  }

  /** These options with another I/O timeout. */
  public NbdOptions withIoTimeout(Duration timeout) {
    return new NbdOptions(connectTimeout, timeout, maxRequestSize);
  }

  /** These options with another maximum request size. */
  public NbdOptions withMaxRequestSize(int bytes) {
    return new NbdOptions(connectTimeout, ioTimeout, bytes);
  }

  private static void requirePositive(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + duration);
    }
  }
}
