package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * A transmission request: magic {@code 0x25609513}, command flags, type, cookie, offset, length
 * (28 bytes); only {@code NBD_CMD_WRITE} is followed by a payload, its data.
 */
final class Request {

  private Request() {}

  static ByteBuffer encode(int flags, int type, long cookie, long offset, int length) {
    return ByteBuffer.allocate(Protocol.REQUEST_LENGTH)
        .putInt(Protocol.NBD_REQUEST_MAGIC)
        .putShort((short) flags)
        .putShort((short) type)
        .putLong(cookie)
        .putLong(offset)
        .putInt(length)
        .flip();
  }

  static String commandName(int type) {
    return switch (type) {
      case Protocol.NBD_CMD_READ -> "NBD_CMD_READ";
      case Protocol.NBD_CMD_WRITE -> "NBD_CMD_WRITE";
      case Protocol.NBD_CMD_DISC -> "NBD_CMD_DISC";
      case Protocol.NBD_CMD_FLUSH -> "NBD_CMD_FLUSH";
      case Protocol.NBD_CMD_WRITE_ZEROES -> "NBD_CMD_WRITE_ZEROES";
      case Protocol.NBD_CMD_BLOCK_STATUS -> "NBD_CMD_BLOCK_STATUS";
      default -> "command " + type;
    };
  }
}
