package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * A simple reply: magic {@code 0x67446698}, error, cookie. For a successful
 * {@code NBD_CMD_READ} without structured replies, the data follows.
 *
 * @param error 0 for success, else an NBD error number
 * @param cookie the request's cookie
 */
record SimpleReply(int error, long cookie) implements Reply {

  /** Decodes the 12 bytes after the magic. */
  static SimpleReply decode(ByteBuffer afterMagic) {
    return new SimpleReply(afterMagic.getInt(), afterMagic.getLong());
  }
}
