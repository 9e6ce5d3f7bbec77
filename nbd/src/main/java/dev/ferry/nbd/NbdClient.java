package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection to one export of an NBD server (QEMU's built-in server or {@code qemu-nbd}), for
 * reading data and block status, and writing; Ferry's copier uses it to pull a disk, and the
 * extents of a dirty bitmap, from a source host, and to write a target image whose format needs
 * QEMU's block layer (qcow2).
 *
 * <p>Design: {@link #connect} runs the fixed-newstyle handshake (structured replies, the
 * requested metadata contexts, {@code NBD_OPT_GO}) and returns a client in the transmission
 * phase. Calls may come from many threads at once: each request goes out under its own cookie
 * and a reader thread routes the replies, in whatever order the server sends them (see
 * {@link Transmission}), so a connection keeps up to {@link NbdOptions#maxInFlight()} requests
 * in flight; a long read or write is split at {@link NbdOptions#maxRequestSize()} (or the
 * server's lower maximum) and its pieces are in flight together. A call returns when all its
 * replies are in. The server may stay silent for at most {@link NbdOptions#ioTimeout()} while
 * requests wait. Requests outside the export are refused before anything is sent. A command
 * error from the server ({@link NbdCommandException}) leaves the connection usable; any other
 * failure (protocol violation, I/O error, timeout) leaves the reply stream out of step, so the
 * socket is closed and every call in flight or later fails with {@link NbdConnectionException}
 * (the calls in flight with the failure itself). The connection only moves forward: open, then
 * broken or closed.
 *
 * <p>Thread-safe. Wire traffic is logged at DEBUG.
 */
public final class NbdClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NbdClient.class);

  /** Block status is asked for at most this much per request; the server may answer less. */
  private static final int MAX_BLOCK_STATUS_REQUEST = 1 << 30;

  private final Peer peer;
  private final ExportInfo export;
  private final Map<String, Integer> contextIds;
  private final int maxRequest;
  private final Transmission transmission;

  private NbdClient(Peer peer, Wire wire, Handshake.Negotiated negotiated, NbdOptions options) {
    this.peer = peer;
    this.export = negotiated.export();
    this.contextIds = Map.copyOf(negotiated.contextIds());
    int limit = Math.min(options.maxRequestSize(), export.maximumPayload());
    this.maxRequest = limit - limit % export.minimumBlockSize();
    this.transmission = new Transmission(peer, wire, options);
  }

  /** {@link #connect(NbdAddress, String, List, NbdOptions)} with {@link NbdOptions#defaults()}. */
  public static NbdClient connect(NbdAddress address, String exportName,
      List<String> metaContexts) throws NbdException {
    return connect(address, exportName, metaContexts, NbdOptions.defaults());
  }

  /**
   * Connects to {@code exportName} at {@code address} and negotiates {@code metaContexts}.
   *
   * @param metaContexts contexts for {@link #blockStatus}, e.g.
   *     {@link MetaContexts#BASE_ALLOCATION} or {@link MetaContexts#dirtyBitmap}; empty for
   *     none. Every one must be offered by the server.
   * @throws NbdConnectionException if the socket cannot be opened, breaks during the handshake,
   *     or the TLS handshake (with {@link NbdOptions#tls()}) fails
   * @throws NbdOptionException if the server refuses: no such export, a context it does not
   *     offer
   * @throws NbdProtocolException if the peer does not speak NBD as specified
   * @throws NbdTimeoutException if the server stops answering during the handshake
   */
  public static NbdClient connect(NbdAddress address, String exportName,
      List<String> metaContexts, NbdOptions options) throws NbdException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(exportName, "exportName");
    List<String> contexts = List.copyOf(metaContexts);
    Objects.requireNonNull(options, "options");
    if (options.tls() != null && address instanceof NbdAddress.Unix) {
      // the JDK's TLS runs over a Socket, which a UNIX socket channel does not offer
      throw new IllegalArgumentException("TLS needs a TCP address, not " + address);
    }
    Peer peer = new Peer(address, exportName);
    Wire wire = Wire.open(peer, options);
    try {
      NbdClient client = new NbdClient(peer, wire, Handshake.run(wire, peer, contexts, options.tls()),
          options);
      log.debug("nbd connected to {}: {}", peer, client.export);
      return client;
    } catch (RuntimeException e) {
      wire.close();
      throw e;
    }
  }

  /** What the handshake learnt about the export. */
  public ExportInfo export() {
    return export;
  }

  /** The export size in bytes. */
  public long size() {
    return export.size();
  }

  /** Whether calls can still be made. */
  public boolean isOpen() {
    return transmission.state() == Transmission.State.OPEN;
  }

  /** Reads {@code length} bytes at {@code offset}. */
  public byte[] read(long offset, int length) throws NbdException {
    byte[] data = new byte[length];
    read(offset, ByteBuffer.wrap(data));
    return data;
  }

  /**
   * Reads {@code dst.remaining()} bytes at {@code offset} into {@code dst}, advancing its
   * position; in several requests if longer than the request limit. Holes read as zeroes.
   *
   * @throws IllegalArgumentException if the range lies outside the export, or {@code dst} is
   *     read-only
   * @throws NbdCommandException if the server fails the read (the connection stays usable)
   */
  public void read(long offset, ByteBuffer dst) throws NbdException {
    if (dst.isReadOnly()) {
      throw new IllegalArgumentException("read into a read-only buffer");
    }
    checkRange("read", offset, dst.remaining());
    List<CompletableFuture<Void>> replies = new ArrayList<>();
    try {
      for (int at = 0; at < dst.remaining(); at += maxRequest) {
        int piece = Math.min(dst.remaining() - at, maxRequest);
        ByteBuffer slice = dst.slice(dst.position() + at, piece);
        replies.add(transmission.submit(Protocol.NBD_CMD_READ, offset + at, piece, null,
            new CmdRead(peer, export.structuredReplies(), offset + at, slice)));
      }
    } finally {
      awaitAll(replies); // the reader may still be filling dst: never return before it is done
    }
    dst.position(dst.limit());
  }

  /**
   * Writes {@code src.remaining()} bytes at {@code offset}, advancing its position; in several
   * requests if longer than the request limit.
   *
   * @throws IllegalArgumentException if the range lies outside the export
   * @throws IllegalStateException if the export is read-only (nothing is sent)
   * @throws NbdCommandException if the server fails the write (the connection stays usable)
   */
  public void write(long offset, ByteBuffer src) throws NbdException {
    requireWritable("write");
    checkRange("write", offset, src.remaining());
    List<CompletableFuture<Void>> replies = new ArrayList<>();
    try {
      for (int at = 0; at < src.remaining(); at += maxRequest) {
        int piece = Math.min(src.remaining() - at, maxRequest);
        replies.add(transmission.submit(Protocol.NBD_CMD_WRITE, offset + at, piece,
            src.slice(src.position() + at, piece),
            new CmdWrite(peer, "NBD_CMD_WRITE", offset + at, piece)));
      }
    } finally {
      awaitAll(replies);
    }
    src.position(src.limit());
  }

  /**
   * Makes {@code [offset, offset + length)} read as zeroes, letting the server punch a hole
   * instead of writing; nothing but the request header crosses the wire.
   *
   * @throws IllegalStateException if the export is read-only or the server does not take
   *     {@code NBD_CMD_WRITE_ZEROES} (nothing is sent)
   */
  public void writeZeroes(long offset, long length) throws NbdException {
    requireWritable("write zeroes");
    if (!export.canWriteZeroes()) {
      throw new IllegalStateException(peer + " does not offer NBD_CMD_WRITE_ZEROES");
    }
    checkRange("write zeroes", offset, length);
    // the length field has 32 bits; stay aligned to the block size
    long limit = MAX_BLOCK_STATUS_REQUEST - MAX_BLOCK_STATUS_REQUEST % export.minimumBlockSize();
    List<CompletableFuture<Void>> replies = new ArrayList<>();
    try {
      for (long at = offset; at < offset + length; at += limit) {
        int piece = (int) Math.min(offset + length - at, limit);
        replies.add(transmission.submit(Protocol.NBD_CMD_WRITE_ZEROES, at, piece, null,
            new CmdWrite(peer, "NBD_CMD_WRITE_ZEROES", at, piece)));
      }
    } finally {
      awaitAll(replies);
    }
  }

  /**
   * Makes every completed write durable on the server; a no-op for a server that does not offer
   * {@code NBD_CMD_FLUSH} (it has nothing to flush, says the spec).
   */
  public void flush() throws NbdException {
    requireWritable("flush");
    if (!export.canFlush()) {
      return;
    }
    awaitAll(List.of(transmission.submit(Protocol.NBD_CMD_FLUSH, 0, 0, null,
        new CmdWrite(peer, "NBD_CMD_FLUSH", 0, 0))));
  }

  /**
   * The extents of {@code context} covering exactly {@code [offset, offset + length)}: in as
   * many requests as the server needs, the last extent cut at the end of the range, neighbours
   * with equal flags merged.
   *
   * @param context a context negotiated at {@link #connect}
   * @throws IllegalArgumentException if the range lies outside the export or the context was not
   *     negotiated
   * @throws NbdCommandException if the server fails the request (the connection stays usable)
   */
  public List<Extent> blockStatus(long offset, long length, String context) throws NbdException {
    checkRange("block status", offset, length);
    Integer id = contextIds.get(context);
    if (id == null) {
      throw new IllegalArgumentException(
          "meta context '%s' was not negotiated with %s (negotiated: %s)".formatted(context,
              peer, export.metaContexts()));
    }
    // one request at a time: each asks from where the previous answer ended
    List<Extent> result = new ArrayList<>();
    long end = offset + length;
    long at = offset;
    while (at < end) {
      int piece = (int) Math.min(end - at, MAX_BLOCK_STATUS_REQUEST);
      List<Extent> answer = await(transmission.submit(Protocol.NBD_CMD_BLOCK_STATUS, at, piece,
          null, new CmdBlockStatus(peer, at, piece, id, contextIds.values())));
      for (Extent extent : answer) {
        long clippedEnd = Math.min(extent.end(), end);
        append(result, new Extent(extent.offset(), clippedEnd - extent.offset(),
            extent.flags()));
        at = clippedEnd;
      }
    }
    return List.copyOf(result);
  }

  /**
   * Sends {@code NBD_CMD_DISC} (best effort) and closes the socket. Idempotent. A call in flight
   * on another thread fails with {@link NbdConnectionException}.
   */
  @Override
  public void close() {
    transmission.close();
  }

  /** Waits for every reply, then throws the first failure, as the caller's own. */
  private static void awaitAll(List<CompletableFuture<Void>> replies) {
    NbdException first = null;
    for (CompletableFuture<Void> reply : replies) {
      try {
        await(reply);
      } catch (NbdException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static <T> T await(CompletableFuture<T> reply) {
    try {
      return reply.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof NbdException nbd) {
        throw nbd;
      }
      throw e;
    }
  }

  private void requireWritable(String what) {
    if (export.isReadOnly()) {
      throw new IllegalStateException("cannot " + what + ": " + peer + " is read-only");
    }
  }

  private void checkRange(String what, long offset, long length) {
    if (offset < 0 || length < 0 || offset > export.size() - length) {
      throw new IllegalArgumentException("%s out of bounds: offset %d length %d, %s has %d bytes"
          .formatted(what, offset, length, peer, export.size()));
    }
    if (!isOpen()) {
      throw transmission.closedException();
    }
  }

  private static void append(List<Extent> extents, Extent next) {
    if (!extents.isEmpty()) {
      Extent last = extents.getLast();
      if (last.flags() == next.flags() && last.end() == next.offset()) {
        extents.set(extents.size() - 1,
            new Extent(last.offset(), last.length() + next.length(), last.flags()));
        return;
      }
    }
    extents.add(next);
  }

  @Override
  public String toString() {
    return "NbdClient[" + peer + ", " + transmission.state() + "]";
  }
}
