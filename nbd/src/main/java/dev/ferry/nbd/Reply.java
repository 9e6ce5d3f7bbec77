package dev.ferry.nbd;

/**
 * One reply message in the transmission phase: a {@link SimpleReply} or a
 * {@link StructuredReplyChunk}, told apart by their magic numbers.
 */
sealed interface Reply permits SimpleReply, StructuredReplyChunk {

  /** The cookie of the request answered. */
  long cookie();

  /**
   * Reads the next reply's header (a chunk's payload stays on the wire) and checks it answers
   * {@code cookie}: with one request in flight, any other cookie is a protocol error.
   */
  static Reply read(Wire wire, Peer peer, long cookie, String command) {
    String what = "the reply to " + command;
    int magic = wire.read(4, what).getInt();
    Reply reply = switch (magic) {
      case Protocol.NBD_SIMPLE_REPLY_MAGIC -> SimpleReply.decode(wire.read(12, what));
      case Protocol.NBD_STRUCTURED_REPLY_MAGIC -> StructuredReplyChunk.decode(wire.read(16, what));
      default -> throw peer.protocolError("bad reply magic 0x%08x to %s", magic, command);
    };
    if (reply.cookie() != cookie) {
      throw peer.protocolError("reply with cookie %d to %s, which has cookie %d",
          reply.cookie(), command, cookie);
    }
    return reply;
  }
}
