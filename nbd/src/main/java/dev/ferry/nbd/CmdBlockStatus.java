package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code NBD_CMD_BLOCK_STATUS}: one request, answered by exactly one
 * {@code NBD_REPLY_TYPE_BLOCK_STATUS} chunk per negotiated context id. Each chunk lists
 * consecutive extents from the request's offset; the server may cover less than asked, and the
 * last extent may reach past the request.
 */
final class CmdBlockStatus extends InFlight<List<Extent>> {

  static final String COMMAND = "NBD_CMD_BLOCK_STATUS";

  /** The spec's "SHOULD NOT send more than 2^20 extents in a single chunk", as a hard limit. */
  static final long MAX_PAYLOAD = 4 + 8L * (1 << 20);

  private final int contextId;
  private final Collection<Integer> negotiated;
  private final Set<Integer> seen = new HashSet<>();
  private List<Extent> extents;

  /**
   * A request for the extents of context {@code contextId} from {@code offset}, as the server
   * sends them.
   *
   * @param negotiated every negotiated context id; chunks for the others are checked and dropped
   */
  CmdBlockStatus(Peer peer, long offset, int length, int contextId,
      Collection<Integer> negotiated) {
    super(peer, COMMAND, offset, length);
    this.contextId = contextId;
    this.negotiated = negotiated;
  }

  @Override
  boolean accept(Reply reply, Wire wire) {
    if (reply instanceof SimpleReply simple) {
      if (simple.error() == 0) {
        throw peer.protocolError("simple success reply to %s, which needs chunks", COMMAND);
      }
      failed(simple.error());
      return true;
    }
    StructuredReplyChunk chunk = (StructuredReplyChunk) reply;
    switch (chunk.type()) {
      case Protocol.NBD_REPLY_TYPE_BLOCK_STATUS -> {
        if (chunk.length() < 12 || (chunk.length() - 4) % 8 != 0
            || chunk.length() > MAX_PAYLOAD) {
          throw peer.protocolError("NBD_REPLY_TYPE_BLOCK_STATUS of %d bytes", chunk.length());
        }
        ByteBuffer payload = wire.read((int) chunk.length(), chunk.typeName());
        int id = payload.getInt();
        if (!negotiated.contains(id)) {
          throw peer.protocolError("block status for context id %d, which was not negotiated",
              id);
        }
        if (!seen.add(id)) {
          throw peer.protocolError("two block status chunks for context id %d", id);
        }
        if (id == contextId) {
          extents = decodeExtents(payload, offset, (int) length, peer);
        }
      }
      case Protocol.NBD_REPLY_TYPE_NONE -> CmdRead.requireFinalNone(chunk, peer);
      default -> unexpected(chunk, wire);
    }
    return chunk.isDone();
  }

  @Override
  List<Extent> result() {
    if (extents == null) {
      throw peer.protocolError("no block status for context id %d in reply to %s at offset %d",
          contextId, COMMAND, offset);
    }
    return extents;
  }

  /** The descriptors after the context id: (length, flags) pairs, consecutive from offset. */
  static List<Extent> decodeExtents(ByteBuffer descriptors, long offset, int length, Peer peer) {
    List<Extent> extents = new ArrayList<>(descriptors.remaining() / 8);
    long at = offset;
    while (descriptors.hasRemaining()) {
      if (at - offset >= length) {
        throw peer.protocolError("block status descriptors continue past the requested length %d",
            length);
      }
      long extentLength = Integer.toUnsignedLong(descriptors.getInt());
      int flags = descriptors.getInt();
      if (extentLength == 0) {
        throw peer.protocolError("block status descriptor of length 0 at offset %d", at);
      }
      extents.add(new Extent(at, extentLength, flags));
      at += extentLength;
    }
    return extents;
  }

}
