package dev.ferry.nbd;

/**
 * Who the client talks to: the server's address and the export asked for. Decoders and the wire
 * take it so that every failure they raise names both.
 */
record Peer(NbdAddress address, String exportName) {

  NbdProtocolException protocolError(String problem) {
    return new NbdProtocolException(address, exportName, problem);
  }

  NbdProtocolException protocolError(String format, Object... args) {
    return protocolError(format.formatted(args));
  }

  @Override
  public String toString() {
    return NbdException.where(address, exportName);
  }
}
