package dev.ferry.nbd;

import java.util.OptionalLong;

/**
 * The server answered one command with an error (an error chunk or a simple reply with a
 * non-zero error); the connection stays usable.
 */
public final class NbdCommandException extends NbdException {

  private final String command;
  private final int error;
  private final OptionalLong errorOffset;

  NbdCommandException(NbdAddress address, String exportName, String command, long offset,
      long length, int error, String serverMessage, OptionalLong errorOffset) {
    super(address, exportName, "nbd %s failed on %s at offset %d length %d: %s%s%s".formatted(
        command, where(address, exportName), offset, length, Protocol.errorName(error),
        errorOffset.isPresent() ? " (at offset " + errorOffset.getAsLong() + ")" : "",
        serverMessage.isEmpty() ? "" : ": " + serverMessage), null);
    this.command = command;
    this.error = error;
    this.errorOffset = errorOffset;
  }

  /** The command, e.g. {@code NBD_CMD_READ}. */
  public String command() {
    return command;
  }

  /** The NBD error number, errno values as in Linux (5 is {@code NBD_EIO}). */
  public int error() {
    return error;
  }

  /** Where the error happened, when the server said ({@code NBD_REPLY_TYPE_ERROR_OFFSET}). */
  public OptionalLong errorOffset() {
    return errorOffset;
  }
}
