package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The server's reply to an option: magic {@code 0x3e889045565a9}, the option it answers, the
 * reply type and the data.
 *
 * @param option the option answered
 * @param type the reply type, {@code NBD_REP_*}; bit 31 set for an error
 * @param data the reply data, ready to read
 */
record OptionReply(int option, int type, ByteBuffer data) {

  static final int HEADER_LENGTH = 20;

  /**
   * The longest reply data accepted: an info item, a context name or an error message are all
   * within a string's 4096 bytes and a few numbers.
   */
  static final int MAX_DATA_LENGTH = Protocol.MAX_STRING + 64;

  boolean isError() {
    return (type & Protocol.NBD_REP_FLAG_ERROR) != 0;
  }

  /** An error reply's data: a message for humans, possibly empty. */
  String message() {
    return StandardCharsets.UTF_8.decode(data.duplicate()).toString();
  }

  /** Reads the reply to {@code option}. */
  static OptionReply read(Wire wire, Peer peer, int option) {
    String what = "the reply to " + Protocol.optionName(option);
    ByteBuffer header = wire.read(HEADER_LENGTH, what);
    int length = checkHeader(header, peer, option);
    return new OptionReply(option, header.getInt(12), wire.read(length, what));
  }

  /** Checks a reply header and returns the data length that follows. */
  static int checkHeader(ByteBuffer header, Peer peer, int option) {
    long magic = header.getLong(0);
    if (magic != Protocol.OPTION_REPLY_MAGIC) {
      throw peer.protocolError("bad option reply magic 0x%x to %s", magic,
          Protocol.optionName(option));
    }
    int answered = header.getInt(8);
    if (answered != option) {
      throw peer.protocolError("reply to %s while %s was pending",
          Protocol.optionName(answered), Protocol.optionName(option));
    }
    long length = Integer.toUnsignedLong(header.getInt(16));
    if (length > MAX_DATA_LENGTH) {
      throw peer.protocolError("%s reply to %s of %d bytes exceeds the limit of %d",
          Protocol.replyName(header.getInt(12)), Protocol.optionName(option), length,
          MAX_DATA_LENGTH);
    }
    return (int) length;
  }
}
