package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;

/**
 * A structured reply chunk's header: magic {@code 0x668e33ef}, flags, type, cookie, payload
 * length; the payload follows on the wire. Chunks of one reply share the cookie; the last carries
 * {@code NBD_REPLY_FLAG_DONE}.
 *
 * @param flags {@code NBD_REPLY_FLAG_*}
 * @param type {@code NBD_REPLY_TYPE_*}; bit 15 set for an error chunk
 * @param cookie the request's cookie
 * @param length payload bytes that follow, unsigned
 */
record StructuredReplyChunk(int flags, int type, long cookie, long length) implements Reply {

  /** Decodes the 16 bytes after the magic. */
  static StructuredReplyChunk decode(ByteBuffer afterMagic) {
    int flags = Short.toUnsignedInt(afterMagic.getShort());
    int type = Short.toUnsignedInt(afterMagic.getShort());
    long cookie = afterMagic.getLong();
    long length = Integer.toUnsignedLong(afterMagic.getInt());
    return new StructuredReplyChunk(flags, type, cookie, length);
  }

  boolean isDone() {
    return (flags & Protocol.NBD_REPLY_FLAG_DONE) != 0;
  }

  boolean isError() {
    return (type & Protocol.NBD_REPLY_TYPE_FLAG_ERROR) != 0;
  }

  String typeName() {
    return switch (type) {
      case Protocol.NBD_REPLY_TYPE_NONE -> "NBD_REPLY_TYPE_NONE";
      case Protocol.NBD_REPLY_TYPE_OFFSET_DATA -> "NBD_REPLY_TYPE_OFFSET_DATA";
      case Protocol.NBD_REPLY_TYPE_OFFSET_HOLE -> "NBD_REPLY_TYPE_OFFSET_HOLE";
      case Protocol.NBD_REPLY_TYPE_BLOCK_STATUS -> "NBD_REPLY_TYPE_BLOCK_STATUS";
      case Protocol.NBD_REPLY_TYPE_ERROR -> "NBD_REPLY_TYPE_ERROR";
      case Protocol.NBD_REPLY_TYPE_ERROR_OFFSET -> "NBD_REPLY_TYPE_ERROR_OFFSET";
      default -> "chunk type " + type;
    };
  }

  /**
   * An error chunk's payload: error, message length, message, and for
   * {@code NBD_REPLY_TYPE_ERROR_OFFSET} the offset.
   */
  record ErrorPayload(int error, String message, OptionalLong offset) {

    /** The most payload an error chunk may have: the fields and a 4096-byte message. */
    static final int MAX_LENGTH = 4 + 2 + Protocol.MAX_STRING + 8;

    /** Reads the payload of the error chunk {@code chunk} from the wire. */
    static ErrorPayload read(Wire wire, Peer peer, StructuredReplyChunk chunk) {
      if (chunk.length() > MAX_LENGTH) {
        throw peer.protocolError("%s of %d bytes exceeds the limit of %d", chunk.typeName(),
            chunk.length(), MAX_LENGTH);
      }
      return decode(wire.read((int) chunk.length(), chunk.typeName()), chunk.type(), peer);
    }

    static ErrorPayload decode(ByteBuffer payload, int type, Peer peer) {
      if (payload.remaining() < 6) {
        throw peer.protocolError("error chunk of %d bytes, expected at least 6",
            payload.remaining());
      }
      int error = payload.getInt();
      int messageLength = Short.toUnsignedInt(payload.getShort());
      int trailer = type == Protocol.NBD_REPLY_TYPE_ERROR_OFFSET ? 8 : 0;
      if (messageLength + trailer > payload.remaining()) {
        throw peer.protocolError("error chunk message of %d bytes does not fit its chunk",
            messageLength);
      }
      byte[] message = new byte[messageLength];
      payload.get(message);
      OptionalLong offset = trailer == 0 ? OptionalLong.empty()
          : OptionalLong.of(payload.getLong());
      if (error == 0) {
        error = 5; // "MUST be nonzero": treat as NBD_EIO rather than as success
      }
      return new ErrorPayload(error, new String(message, StandardCharsets.UTF_8), offset);
    }
  }
}
