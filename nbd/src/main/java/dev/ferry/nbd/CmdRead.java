package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code NBD_CMD_READ} in flight: places the reply in the caller's buffer as it arrives.
 *
 * <p>With structured replies the data comes as {@code NBD_REPLY_TYPE_OFFSET_DATA} and
 * {@code NBD_REPLY_TYPE_OFFSET_HOLE} chunks in any order; each must lie inside the request and
 * overlap no other, and together they must cover it, else the server broke the protocol. Data is
 * read straight into the caller's buffer, and a chunk longer than the request is refused before
 * its payload is read. Error chunks fail the read once the final chunk has arrived, leaving the
 * connection usable.
 */
final class CmdRead extends InFlight<Void> {

  static final String COMMAND = "NBD_CMD_READ";
  private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(64 * 1024).asReadOnlyBuffer();

  private final boolean structured;
  private final ByteBuffer dst;
  private final Coverage coverage;

  /** A read of {@code dst.remaining()} bytes at {@code offset}; {@code dst} is not advanced. */
  CmdRead(Peer peer, boolean structured, long offset, ByteBuffer dst) {
    super(peer, COMMAND, offset, dst.remaining());
    this.structured = structured;
    this.dst = dst.slice();
    this.coverage = new Coverage(offset, dst.remaining());
  }

  @Override
  boolean accept(Reply reply, Wire wire) {
    if (reply instanceof SimpleReply simple) {
      if (simple.error() != 0) {
        // a server bug if structured replies were negotiated, but one with no payload to skip
        failed(simple.error());
        return true;
      }
      if (structured) {
        throw peer.protocolError("simple reply to %s although structured replies were "
            + "negotiated", COMMAND);
      }
      wire.readFully(dst.duplicate(), "the data of " + COMMAND);
      coverage.add(offset, length, "simple reply", peer);
      return true;
    }
    StructuredReplyChunk chunk = (StructuredReplyChunk) reply;
    switch (chunk.type()) {
      case Protocol.NBD_REPLY_TYPE_OFFSET_DATA -> {
        if (chunk.length() < 9) {
          throw peer.protocolError("NBD_REPLY_TYPE_OFFSET_DATA of %d bytes", chunk.length());
        }
        long dataLength = chunk.length() - 8;
        if (dataLength > length) {
          throw peer.protocolError("oversize NBD_REPLY_TYPE_OFFSET_DATA of %d bytes in reply "
              + "to a read of %d bytes at offset %d", dataLength, length, offset);
        }
        long at = wire.read(8, "NBD_REPLY_TYPE_OFFSET_DATA").getLong();
        int start = coverage.add(at, dataLength, chunk.typeName(), peer);
        wire.readFully(dst.duplicate().position(start).limit(start + (int) dataLength),
            "the data of NBD_REPLY_TYPE_OFFSET_DATA at offset " + at);
      }
      case Protocol.NBD_REPLY_TYPE_OFFSET_HOLE -> {
        if (chunk.length() != 12) {
          throw peer.protocolError("NBD_REPLY_TYPE_OFFSET_HOLE of %d bytes, expected 12",
              chunk.length());
        }
        ByteBuffer payload = wire.read(12, "NBD_REPLY_TYPE_OFFSET_HOLE");
        long at = payload.getLong();
        long holeLength = Integer.toUnsignedLong(payload.getInt());
        int start = coverage.add(at, holeLength, chunk.typeName(), peer);
        zero(dst.duplicate().position(start).limit(start + (int) holeLength));
      }
      case Protocol.NBD_REPLY_TYPE_NONE -> requireFinalNone(chunk, peer);
      default -> unexpected(chunk, wire);
    }
    return chunk.isDone();
  }

  @Override
  Void result() {
    if (coverage.covered() != length) {
      throw peer.protocolError("reply to %s at offset %d length %d covered %d bytes", COMMAND,
          offset, length, coverage.covered());
    }
    return null;
  }

  /** {@code NBD_REPLY_TYPE_NONE} has no payload and may only end a reply. */
  static void requireFinalNone(StructuredReplyChunk chunk, Peer peer) {
    if (chunk.length() != 0 || !chunk.isDone()) {
      throw peer.protocolError("NBD_REPLY_TYPE_NONE with %d bytes%s", chunk.length(),
          chunk.isDone() ? "" : ", not marked done");
    }
  }

  private static void zero(ByteBuffer target) {
    while (target.hasRemaining()) {
      target.put(ZEROES.duplicate().limit(Math.min(target.remaining(), ZEROES.capacity())));
    }
  }

  /** The ranges of the request covered so far; refuses a range outside it or overlapping. */
  private static final class Coverage {

    private final long offset;
    private final long length;
    private final TreeMap<Long, Long> ranges = new TreeMap<>(); // start -> end, exclusive
    private long covered;

    Coverage(long offset, long length) {
      this.offset = offset;
      this.length = length;
    }

    /** Adds {@code [at, at + size)}; returns its index into the request. */
    int add(long at, long size, String chunk, Peer peer) {
      long end = at + size;
      if (size <= 0 || at < offset || end > offset + length || end < at) {
        throw peer.protocolError("%s at offset %d length %d outside the request at offset %d "
            + "length %d", chunk, at, size, offset, length);
      }
      Map.Entry<Long, Long> before = ranges.floorEntry(at);
      Map.Entry<Long, Long> after = ranges.ceilingEntry(at);
      if ((before != null && before.getValue() > at) || (after != null && after.getKey() < end)) {
        throw peer.protocolError("%s at offset %d length %d overlaps an earlier chunk", chunk,
            at, size);
      }
      ranges.put(at, end);
      covered += size;
      return (int) (at - offset);
    }

    long covered() {
      return covered;
    }
  }
}
