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
 * @param maxInFlight the most requests one connection keeps waiting for replies; callers beyond
 *     it wait for a slot
 * @param tls when not null, the client upgrades the connection with {@code NBD_OPT_STARTTLS}
 *     before any other option (a server with TLS required refuses everything else); null for
 *     plain NBD
 */
public record NbdOptions(Duration connectTimeout, Duration ioTimeout, int maxRequestSize,
    int maxInFlight, NbdTls tls) {

  /** 32 MiB: QEMU's maximum payload, so one request per 32 MiB of a QEMU export. */
  public static final int DEFAULT_MAX_REQUEST_SIZE = 32 << 20;

  /** 16: enough to keep a loopback or LAN link busy with 4 MiB requests, as libnbd's bound. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 16;

  /** Options with {@link #DEFAULT_MAX_IN_FLIGHT}, without TLS. */
  public NbdOptions(Duration connectTimeout, Duration ioTimeout, int maxRequestSize) {
    this(connectTimeout, ioTimeout, maxRequestSize, DEFAULT_MAX_IN_FLIGHT);
  }

  /** Options without TLS. */
  public NbdOptions(Duration connectTimeout, Duration ioTimeout, int maxRequestSize,
      int maxInFlight) {
    this(connectTimeout, ioTimeout, maxRequestSize, maxInFlight, null);
  }

  public NbdOptions {
    requirePositive(connectTimeout, "connectTimeout");
    requirePositive(ioTimeout, "ioTimeout");
    if (maxRequestSize < 512) {
      throw new IllegalArgumentException("maxRequestSize must be at least 512: " + maxRequestSize);
    }
    if (maxInFlight < 1 || maxInFlight > 1024) {
      throw new IllegalArgumentException("maxInFlight must be 1..1024: " + maxInFlight);
    }
  }

  /** 10 s to connect, 30 s I/O timeout, 32 MiB requests, 16 in flight, no TLS. */
  public static NbdOptions defaults() {
    return new NbdOptions(Duration.ofSeconds(10), Duration.ofSeconds(30),
        DEFAULT_MAX_REQUEST_SIZE);
  }

  /** These options with another I/O timeout. */
  public NbdOptions withIoTimeout(Duration timeout) {
    return new NbdOptions(connectTimeout, timeout, maxRequestSize, maxInFlight, tls);
  }

  /** These options with another maximum request size. */
  public NbdOptions withMaxRequestSize(int bytes) {
    return new NbdOptions(connectTimeout, ioTimeout, bytes, maxInFlight, tls);
  }

  /** These options with another bound on requests in flight. */
  public NbdOptions withMaxInFlight(int requests) {
    return new NbdOptions(connectTimeout, ioTimeout, maxRequestSize, requests, tls);
  }

  /** These options with TLS ({@code tls} not null) or without (null). */
  public NbdOptions withTls(NbdTls tls) {
    return new NbdOptions(connectTimeout, ioTimeout, maxRequestSize, maxInFlight, tls);
  }

  private static void requirePositive(Duration duration, String name) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + duration);
    }
  }
}
