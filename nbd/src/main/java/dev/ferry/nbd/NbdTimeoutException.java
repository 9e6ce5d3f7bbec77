package dev.ferry.nbd;

import java.time.Duration;

/**
 * The server sent nothing (or accepted nothing) for longer than the I/O timeout of
 * {@link NbdOptions}; the reply stream is then out of step, so the client is closed.
 */
public final class NbdTimeoutException extends NbdException {

  private final Duration timeout;

  NbdTimeoutException(NbdAddress address, String exportName, String doing, Duration timeout) {
    super(address, exportName, "nbd %s made no progress for %d ms while %s".formatted(
        where(address, exportName), timeout.toMillis(), doing), null);
    this.timeout = timeout;
  }

  /** The I/O timeout that ran out. */
  public Duration timeout() {
    return timeout;
  }
}
