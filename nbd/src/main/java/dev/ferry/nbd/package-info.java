/**
 * A client for the Network Block Device protocol (fixed-newstyle handshake, structured replies,
 * metadata contexts), for reading disks and dirty-bitmap extents from QEMU's NBD server or
 * {@code qemu-nbd}.
 *
 * <p>Start at {@link dev.ferry.nbd.NbdClient#connect}. Wire messages are package-private classes
 * named as in the NBD spec ({@code OptGo}, {@code OptSetMetaContext},
 * {@code StructuredReplyChunk}, {@code CmdRead}, ...), the protocol's numbers are in
 * {@code Protocol}, and every failure is an {@link dev.ferry.nbd.NbdException}.
 */
package dev.ferry.nbd;
