package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * {@code NBD_OPT_STARTTLS}: asks the server to upgrade the connection to TLS. After its
 * {@code NBD_REP_ACK} the TLS handshake starts on the same socket and the option haggling goes
 * on inside TLS.
 */
final class OptStartTls {

  private OptStartTls() {}

  static ByteBuffer encode() {
    return OptionRequest.encode(Protocol.NBD_OPT_STARTTLS, ByteBuffer.allocate(0));
  }

  /** Negotiates; anything but {@code NBD_REP_ACK} (a server without TLS: UNSUP, POLICY) fails. */
  static void negotiate(Wire wire, Peer peer) {
    wire.write(encode(), Protocol.optionName(Protocol.NBD_OPT_STARTTLS));
    OptionReply reply = OptionReply.read(wire, peer, Protocol.NBD_OPT_STARTTLS);
    if (reply.type() == Protocol.NBD_REP_ACK) {
      if (reply.data().hasRemaining()) {
        throw peer.protocolError("NBD_REP_ACK to NBD_OPT_STARTTLS with %d bytes of data",
            reply.data().remaining());
      }
      return;
    }
    throw reply.isError()
        ? NbdOptionException.refused(peer.address(), peer.exportName(), reply.option(),
            reply.type(), reply.message())
        : peer.protocolError("unexpected %s to NBD_OPT_STARTTLS",
            Protocol.replyName(reply.type()));
  }
}
