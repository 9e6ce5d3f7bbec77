package dev.ferry.nbd;

/**
 * Root of every failure of the NBD layer; each message names the server address and the export.
 *
 * <p>Unchecked, like {@code QmpException}, so callers in lambdas and executors need no wrapping.
 * Sealed, so a caller can tell the kinds apart exhaustively: the server refused the handshake
 * ({@link NbdOptionException}), the server failed one command and the connection is still usable
 * ({@link NbdCommandException}), no data in time ({@link NbdTimeoutException}), the connection is
 * gone ({@link NbdConnectionException}), or the server broke the protocol
 * ({@link NbdProtocolException}). After any kind but {@link NbdCommandException} the client is
 * closed.
 */
public abstract sealed class NbdException extends RuntimeException permits NbdOptionException,
    NbdCommandException, NbdTimeoutException, NbdConnectionException, NbdProtocolException {

  private final NbdAddress address;
  private final String exportName;

  NbdException(NbdAddress address, String exportName, String message, Throwable cause) {
    super(message, cause);
    this.address = address;
    this.exportName = exportName;
  }

  /** The server's address. */
  public NbdAddress address() {
    return address;
  }

  /** The export the client asked for. */
  public String exportName() {
    return exportName;
  }

  /** {@code "export 'NAME' at ADDRESS"}, the context every message carries. */
  static String where(NbdAddress address, String exportName) {
    return "export '%s' at %s".formatted(exportName, address);
  }
}
