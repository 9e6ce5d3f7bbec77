package dev.ferry.api.tls;

/** TLS files that are missing or cannot be read; the message names the files. */
public final class TlsException extends RuntimeException {
  public TlsException(String message, Throwable cause) {
    super(message, cause);
  }
}
