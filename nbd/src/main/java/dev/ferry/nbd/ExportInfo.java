package dev.ferry.nbd;

import java.util.List;
import java.util.Objects;

/**
 * What the handshake learnt about the export.
 *
 * @param name the export name the client asked for
 * @param size the export size in bytes ({@code NBD_INFO_EXPORT})
 * @param transmissionFlags the transmission flags ({@code NBD_INFO_EXPORT})
 * @param minimumBlockSize {@code NBD_INFO_BLOCK_SIZE}, 1 when the server sent none
 * @param preferredBlockSize {@code NBD_INFO_BLOCK_SIZE}, 4096 when the server sent none
 * @param maximumPayload {@code NBD_INFO_BLOCK_SIZE}, 32 MiB when the server sent none (the
 *     spec's default); "no limit" ({@code 0xffffffff}) reads as {@link Integer#MAX_VALUE}
 * @param structuredReplies whether {@code NBD_OPT_STRUCTURED_REPLY} was negotiated
 * @param metaContexts the metadata contexts the server selected, in its order
 */
public record ExportInfo(String name, long size, int transmissionFlags, int minimumBlockSize,
    int preferredBlockSize, int maximumPayload, boolean structuredReplies,
    List<String> metaContexts) {

  public ExportInfo {
    Objects.requireNonNull(name, "name");
    metaContexts = List.copyOf(metaContexts);
  }

  /** {@code NBD_FLAG_READ_ONLY}. */
  public boolean isReadOnly() {
    return (transmissionFlags & Protocol.NBD_FLAG_READ_ONLY) != 0;
  }

  /** {@code NBD_FLAG_SEND_WRITE_ZEROES}: the server takes {@code NBD_CMD_WRITE_ZEROES}. */
  public boolean canWriteZeroes() {
    return (transmissionFlags & Protocol.NBD_FLAG_SEND_WRITE_ZEROES) != 0;
  }

  /** {@code NBD_FLAG_SEND_FLUSH}: the server takes {@code NBD_CMD_FLUSH}. */
  public boolean canFlush() {
    return (transmissionFlags & Protocol.NBD_FLAG_SEND_FLUSH) != 0;
  }

  /** {@code NBD_FLAG_CAN_MULTI_CONN}: several connections see each other's writes. */
  public boolean canMultiConn() {
    return (transmissionFlags & Protocol.NBD_FLAG_CAN_MULTI_CONN) != 0;
  }
}
