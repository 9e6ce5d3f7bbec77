package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * An option the client sends during the handshake: {@code IHAVEOPT}, the option number, the
 * data length and the data. Also the encoders of the strings inside option data.
 */
final class OptionRequest {

  private OptionRequest() {}

  static ByteBuffer encode(int option, ByteBuffer data) {
    ByteBuffer buffer = ByteBuffer.allocate(16 + data.remaining());
    buffer.putLong(Protocol.IHAVEOPT).putInt(option).putInt(data.remaining()).put(data);
    return buffer.flip();
  }

  /** Option data of a string behind its 32-bit length, as export names are sent. */
  static byte[] utf8(String value, String what) {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > Protocol.MAX_STRING) {
      throw new IllegalArgumentException(
          "%s longer than %d bytes: %s".formatted(what, Protocol.MAX_STRING, value));
    }
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " contains NUL");
    }
    return bytes;
  }
}
