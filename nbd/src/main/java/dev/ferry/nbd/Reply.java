package dev.ferry.nbd;

/**
 * One reply message in the transmission phase: a {@link SimpleReply} or a
 * {@link StructuredReplyChunk}, told apart by their magic numbers.
 */
sealed interface Reply permits SimpleReply, StructuredReplyChunk {

  /** The cookie of the request answered. */
  long cookie();

  /**
   * Reads the next reply's header; a chunk's payload (and a simple read reply's data) stays on
   * the wire for the request the cookie names.
   */
  static Reply read(Wire wire, Peer peer) {
    String what = "a reply header";
    int magic = wire.read(4, what).getInt();
    return switch (magic) {
      case Protocol.NBD_SIMPLE_REPLY_MAGIC -> SimpleReply.decode(wire.read(12, what));
      case Protocol.NBD_STRUCTURED_REPLY_MAGIC -> StructuredReplyChunk.decode(wire.read(16, what));
      default -> throw peer.protocolError("bad reply magic 0x%08x", magic);
    };
  }
}
