package dev.ferry.nbd;

/**
 * {@code NBD_CMD_WRITE}, {@code NBD_CMD_WRITE_ZEROES} and {@code NBD_CMD_FLUSH} in flight: the
 * commands that change the export. All three are answered without data: a simple reply, or (with
 * structured replies) a final {@code NBD_REPLY_TYPE_NONE} or error chunk. An error leaves the
 * connection usable.
 *
 * <p>{@code NBD_CMD_WRITE_ZEROES} is sent without {@code NBD_CMD_FLAG_NO_HOLE}, so the server
 * may punch a hole, which is what a copier wants for a range the source has as zeroes.
 */
final class CmdWrite extends InFlight<Void> {

  CmdWrite(Peer peer, String command, long offset, long length) {
    super(peer, command, offset, length);
  }

  @Override
  boolean accept(Reply reply, Wire wire) {
    if (reply instanceof SimpleReply simple) {
      if (simple.error() != 0) {
        failed(simple.error());
      }
      return true;
    }
    StructuredReplyChunk chunk = (StructuredReplyChunk) reply;
    if (chunk.type() == Protocol.NBD_REPLY_TYPE_NONE) {
      CmdRead.requireFinalNone(chunk, peer);
    } else {
      unexpected(chunk, wire);
    }
    return chunk.isDone();
  }

  @Override
  Void result() {
    return null;
  }
}
