package dev.ferry.nbd;

import java.nio.ByteBuffer;

/**
 * {@code NBD_OPT_GO}: ends the handshake and enters transmission on the named export. The client
 * asks for {@code NBD_INFO_BLOCK_SIZE} (promising to honour the server's size constraints); the
 * server answers {@code NBD_REP_INFO} items, among them the mandatory {@code NBD_INFO_EXPORT}
 * (size and transmission flags), then {@code NBD_REP_ACK}, or an {@code NBD_REP_ERR_*} such as
 * {@code NBD_REP_ERR_UNKNOWN} for a missing export.
 */
final class OptGo {

  /** The spec's defaults when the server sends no {@code NBD_INFO_BLOCK_SIZE}. */
  static final int DEFAULT_MINIMUM_BLOCK = 1;
  static final int DEFAULT_PREFERRED_BLOCK = 4096;
  static final int DEFAULT_MAXIMUM_PAYLOAD = 32 << 20;

  /**
   * What {@code NBD_REP_INFO} told.
   *
   * @param size export size in bytes
   * @param transmissionFlags {@code NBD_FLAG_*}
   */
  record Result(long size, int transmissionFlags, int minimumBlockSize, int preferredBlockSize,
      int maximumPayload) {}

  private OptGo() {}

  static ByteBuffer encode(String exportName, int... infoRequests) {
    byte[] name = OptionRequest.utf8(exportName, "export name");
    ByteBuffer data = ByteBuffer.allocate(4 + name.length + 2 + 2 * infoRequests.length);
    data.putInt(name.length).put(name).putShort((short) infoRequests.length);
    for (int info : infoRequests) {
      data.putShort((short) info);
    }
    return OptionRequest.encode(Protocol.NBD_OPT_GO, data.flip());
  }

  static Result negotiate(Wire wire, Peer peer) {
    int option = Protocol.NBD_OPT_GO;
    wire.write(encode(peer.exportName(), Protocol.NBD_INFO_BLOCK_SIZE),
        Protocol.optionName(option));
    long size = -1;
    int flags = 0;
    int minimum = DEFAULT_MINIMUM_BLOCK;
    int preferred = DEFAULT_PREFERRED_BLOCK;
    int maximum = DEFAULT_MAXIMUM_PAYLOAD;
    while (true) {
      OptionReply reply = OptionReply.read(wire, peer, option);
      switch (reply.type()) {
        case Protocol.NBD_REP_INFO -> {
          ByteBuffer data = reply.data();
          if (data.remaining() < 2) {
            throw peer.protocolError("NBD_REP_INFO of %d bytes", data.remaining());
          }
          int type = Short.toUnsignedInt(data.getShort());
          switch (type) {
            case Protocol.NBD_INFO_EXPORT -> {
              requireLength(peer, "NBD_INFO_EXPORT", reply, 12);
              size = data.getLong();
              flags = Short.toUnsignedInt(data.getShort());
              if (size < 0) {
                throw peer.protocolError("export size %s beyond 2^63",
                    Long.toUnsignedString(size));
              }
            }
            case Protocol.NBD_INFO_BLOCK_SIZE -> {
              requireLength(peer, "NBD_INFO_BLOCK_SIZE", reply, 14);
              minimum = data.getInt();
              preferred = data.getInt();
              maximum = data.getInt();
              checkBlockSizes(peer, minimum, preferred, maximum);
            }
            default -> {
              // NBD_INFO_NAME, NBD_INFO_DESCRIPTION or newer: "the client MUST ignore
              // information replies it does not understand"
            }
          }
        }
        case Protocol.NBD_REP_ACK -> {
          if (size < 0) {
            throw peer.protocolError("NBD_REP_ACK to NBD_OPT_GO without NBD_INFO_EXPORT");
          }
          return new Result(size, flags, minimum, preferred, maximum);
        }
        default -> throw reply.isError()
            ? NbdOptionException.refused(peer.address(), peer.exportName(), option,
                reply.type(), reply.message())
            : peer.protocolError("unexpected %s to NBD_OPT_GO", Protocol.replyName(reply.type()));
      }
    }
  }

  private static void requireLength(Peer peer, String info, OptionReply reply, int length) {
    int actual = reply.data().limit();
    if (actual != length) {
      throw peer.protocolError("%s of length %d, expected %d", info, actual, length);
    }
  }

  private static void checkBlockSizes(Peer peer, int minimum, int preferred, int maximum) {
    boolean powers = Integer.bitCount(minimum) == 1 && Integer.bitCount(preferred) == 1;
    if (!powers || minimum > 64 * 1024 || preferred < Math.max(minimum, 512)
        || Integer.toUnsignedLong(maximum) < preferred) {
      throw peer.protocolError("invalid NBD_INFO_BLOCK_SIZE: minimum %d, preferred %d, maximum %s",
          minimum, preferred, Integer.toUnsignedString(maximum));
    }
  }
}
