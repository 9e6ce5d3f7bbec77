package dev.ferry.nbd;

/**
 * The connection could not be opened, broke, or was closed (by the server hanging up or by
 * {@link NbdClient#close()}); the client is closed.
 */
public final class NbdConnectionException extends NbdException {

  NbdConnectionException(NbdAddress address, String exportName, String message,
      Throwable cause) {
    super(address, exportName, message, cause);
  }

  static NbdConnectionException cannotConnect(NbdAddress address, String exportName,
      Throwable cause) {
    return new NbdConnectionException(address, exportName, "cannot connect to nbd %s: %s"
        .formatted(where(address, exportName), cause.getMessage()), cause);
  }

  static NbdConnectionException hungUp(NbdAddress address, String exportName, String reading) {
    return new NbdConnectionException(address, exportName,
        "nbd server hung up on %s while the client read %s".formatted(
            where(address, exportName), reading), null);
  }

  static NbdConnectionException ioFailed(NbdAddress address, String exportName, String doing,
      Throwable cause) {
    return new NbdConnectionException(address, exportName, "nbd connection to %s failed while %s: %s"
        .formatted(where(address, exportName), doing, cause.getMessage()), cause);
  }

  static NbdConnectionException tlsFailed(NbdAddress address, String exportName, String host,
      Throwable cause) {
    return new NbdConnectionException(address, exportName,
        "nbd connection to %s failed: the TLS handshake with %s failed: %s".formatted(
            where(address, exportName), host, cause.getMessage()), cause);
  }

  static NbdConnectionException closed(NbdAddress address, String exportName, String reason,
      Throwable cause) {
    return new NbdConnectionException(address, exportName, "nbd connection to %s is closed: %s"
        .formatted(where(address, exportName), reason), cause);
  }
}
