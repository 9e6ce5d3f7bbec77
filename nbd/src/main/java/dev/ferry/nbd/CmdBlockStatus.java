package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * {@code NBD_CMD_BLOCK_STATUS}: one request, answered by exactly one
 * {@code NBD_REPLY_TYPE_BLOCK_STATUS} chunk per negotiated context id. Each chunk lists
 * consecutive extents from the request's offset; the server may cover less than asked, and the
 * last extent may reach past the request.
 */
final class CmdBlockStatus {

  private static final String COMMAND = "NBD_CMD_BLOCK_STATUS";

  /** The spec's "SHOULD NOT send more than 2^20 extents in a single chunk", as a hard limit. */
  static final long MAX_PAYLOAD = 4 + 8L * (1 << 20);

  private final Wire wire;
  private final Peer peer;

  CmdBlockStatus(Wire wire, Peer peer) {
    this.wire = wire;
    this.peer = peer;
  }

  /**
   * The extents of context {@code contextId} from {@code offset}, as the server sent them.
   *
   * @param negotiated every negotiated context id; chunks for the others are checked and dropped
   */
  List<Extent> execute(long cookie, long offset, int length, int contextId,
      Collection<Integer> negotiated) {
    wire.write(Request.encode(0, Protocol.NBD_CMD_BLOCK_STATUS, cookie, offset, length), COMMAND);
    List<Extent> extents = null;
    Set<Integer> seen = new HashSet<>();
    StructuredReplyChunk.ErrorPayload failure = null;
    while (true) {
      Reply reply = Reply.read(wire, peer, cookie, COMMAND);
      if (reply instanceof SimpleReply simple) {
        if (simple.error() == 0) {
          throw peer.protocolError("simple success reply to %s, which needs chunks", COMMAND);
        }
        throw failed(offset, length, new StructuredReplyChunk.ErrorPayload(simple.error(), "",
            OptionalLong.empty()));
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
            extents = decodeExtents(payload, offset, length, peer);
          }
        }
        case Protocol.NBD_REPLY_TYPE_NONE -> CmdRead.requireFinalNone(chunk, peer);
        default -> {
          if (!chunk.isError()) {
            throw peer.protocolError("unexpected %s in reply to %s", chunk.typeName(), COMMAND);
          }
          StructuredReplyChunk.ErrorPayload error =
              StructuredReplyChunk.ErrorPayload.read(wire, peer, chunk);
          failure = failure == null ? error : failure;
        }
      }
      if (chunk.isDone()) {
        break;
      }
    }
    if (failure != null) {
      throw failed(offset, length, failure);
    }
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

  private NbdCommandException failed(long offset, int length,
      StructuredReplyChunk.ErrorPayload error) {
    return new NbdCommandException(peer.address(), peer.exportName(), COMMAND, offset, length,
        error.error(), error.message(), error.offset());
  }
}
