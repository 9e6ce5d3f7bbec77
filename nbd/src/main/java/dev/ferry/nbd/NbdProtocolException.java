package dev.ferry.nbd;

/**
 * The server broke the NBD protocol: a wrong magic number, a reply of the wrong length, a chunk
 * outside the request, more data than the client's read limit, an unknown cookie. The spec asks
 * the client to disconnect hard, so the client is closed.
 */
public final class NbdProtocolException extends NbdException {

  NbdProtocolException(NbdAddress address, String exportName, String problem) {
    super(address, exportName, "nbd protocol error from %s: %s".formatted(
        where(address, exportName), problem), null);
  }
}
