package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * {@code NBD_CMD_WRITE}, {@code NBD_CMD_WRITE_ZEROES} and {@code NBD_CMD_FLUSH}: the commands
 * that change the export. All three are answered without data: a simple reply, or (with
 * structured replies) a final {@code NBD_REPLY_TYPE_NONE} or error chunk. An error leaves the
 * connection usable.
 */
final class CmdWrite {

  private final Wire wire;
  private final Peer peer;

  CmdWrite(Wire wire, Peer peer) {
    this.wire = wire;
    this.peer = peer;
  }

  /** Writes {@code src.remaining()} bytes at {@code offset}, advancing {@code src}. */
  void write(long cookie, long offset, ByteBuffer src) {
    int length = src.remaining();
    wire.write(Request.encode(0, Protocol.NBD_CMD_WRITE, cookie, offset, length),
        "NBD_CMD_WRITE");
    wire.write(src, "the data of NBD_CMD_WRITE");
    awaitDone(cookie, "NBD_CMD_WRITE", offset, length);
  }

  /**
   * Zeroes {@code length} bytes at {@code offset}; without {@code NBD_CMD_FLAG_NO_HOLE} the server
   * may punch a hole, which is what a copier wants for a range the source has as zeroes.
   */
  void writeZeroes(long cookie, long offset, int length) {
    wire.write(Request.encode(0, Protocol.NBD_CMD_WRITE_ZEROES, cookie, offset, length),
        "NBD_CMD_WRITE_ZEROES");
    awaitDone(cookie, "NBD_CMD_WRITE_ZEROES", offset, length);
  }

  /** Makes every completed write durable. */
  void flush(long cookie) {
    wire.write(Request.encode(0, Protocol.NBD_CMD_FLUSH, cookie, 0, 0), "NBD_CMD_FLUSH");
    awaitDone(cookie, "NBD_CMD_FLUSH", 0, 0);
  }

  private void awaitDone(long cookie, String command, long offset, long length) {
    StructuredReplyChunk.ErrorPayload failure = null;
    while (true) {
      Reply reply = Reply.read(wire, peer, cookie, command);
      if (reply instanceof SimpleReply simple) {
        if (simple.error() != 0) {
          failure = new StructuredReplyChunk.ErrorPayload(simple.error(), "",
              java.util.OptionalLong.empty());
        }
        break;
      }
      StructuredReplyChunk chunk = (StructuredReplyChunk) reply;
      if (chunk.type() == Protocol.NBD_REPLY_TYPE_NONE) {
        CmdRead.requireFinalNone(chunk, peer);
      } else if (chunk.isError()) {
        StructuredReplyChunk.ErrorPayload error =
            StructuredReplyChunk.ErrorPayload.read(wire, peer, chunk);
        failure = failure == null ? error : failure;
      } else {
        throw peer.protocolError("unexpected %s in reply to %s", chunk.typeName(), command);
      }
      if (chunk.isDone()) {
        break;
      }
    }
    if (failure != null) {
      throw new NbdCommandException(peer.address(), peer.exportName(), command, offset, length,
          failure.error(), failure.message(), failure.offset());
    }
  }
}
