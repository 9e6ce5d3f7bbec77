package dev.ferry.qmp;

import java.nio.file.Path;

/**
 * Root of every failure of the QMP layer.
 *
 * <p>Unchecked on purpose: results travel through {@link java.util.concurrent.CompletableFuture}s
 * and lambdas (event listeners, {@code thenApply} chains), where checked exceptions do not compose
 * and would end up wrapped anyway. Methods still declare {@code throws QmpException} so the
 * contract is visible. Sealed, so a caller can {@code switch} over the four kinds exhaustively:
 * QEMU refused the command ({@link QmpErrorException}), no reply in time
 * ({@link QmpTimeoutException}), the socket is gone ({@link QmpConnectionException}), or QEMU sent
 * something that is not QMP ({@link QmpProtocolException}).
 */
public abstract sealed class QmpException extends RuntimeException
    permits QmpErrorException, QmpTimeoutException, QmpConnectionException, QmpProtocolException {

  private final Path socket;

  QmpException(Path socket, String message, Throwable cause) {
    super(message, cause);
    this.socket = socket;
  }

  /** The QMP socket of the connection that failed. */
  public Path socket() {
    return socket;
  }
}
