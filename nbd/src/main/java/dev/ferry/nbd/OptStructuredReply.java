package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * {@code NBD_OPT_STRUCTURED_REPLY}: asks for structured replies (chunks that can carry holes,
 * errors with messages, and block status). Needed for metadata contexts.
 */
final class OptStructuredReply {

  private OptStructuredReply() {}

  static ByteBuffer encode() {
    return OptionRequest.encode(Protocol.NBD_OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
  }

  /**
   * Negotiates; returns false if the server does not support structured replies
   * ({@code NBD_REP_ERR_UNSUP}).
   */
  static boolean negotiate(Wire wire, Peer peer) {
    wire.write(encode(), Protocol.optionName(Protocol.NBD_OPT_STRUCTURED_REPLY));
    OptionReply reply = OptionReply.read(wire, peer, Protocol.NBD_OPT_STRUCTURED_REPLY);
    if (reply.type() == Protocol.NBD_REP_ACK) {
      if (reply.data().hasRemaining()) {
        throw peer.protocolError("NBD_REP_ACK to NBD_OPT_STRUCTURED_REPLY with %d bytes of data",
            reply.data().remaining());
      }
      return true;
    }
    if (reply.type() == Protocol.NBD_REP_ERR_UNSUP) {
      return false;
    }
    throw reply.isError()
        ? NbdOptionException.refused(peer.address(), peer.exportName(), reply.option(),
            reply.type(), reply.message())
        : peer.protocolError("unexpected %s to NBD_OPT_STRUCTURED_REPLY",
            Protocol.replyName(reply.type()));
  }
}
