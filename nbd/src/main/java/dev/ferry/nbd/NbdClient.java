package dev.ferry.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
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
 * phase. Calls are synchronous with one request in flight, serialized by a lock, so replies need
 * no routing: a reply with another cookie is a protocol error. Every wait for the server is
 * bounded by {@link NbdOptions#ioTimeout()}; reads are split at
 * {@link NbdOptions#maxRequestSize()} (or the server's lower maximum), so no reply is larger.
 * Requests outside the export are refused before anything is sent. A command error from the
 * server ({@link NbdCommandException}) leaves the connection usable; any other failure (protocol
 * violation, I/O error, timeout) leaves the reply stream out of step, so the socket is closed
 * and every later call fails with {@link NbdConnectionException}. The connection only moves
 * forward: open, then broken or closed.
 *
 * <p>Thread-safe. Wire traffic is logged at DEBUG.
 */
public final class NbdClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NbdClient.class);

  /** Block status is asked for at most this much per request; the server may answer less. */
  private static final int MAX_BLOCK_STATUS_REQUEST = 1 << 30;

  private enum State {
    /** in the transmission phase: commands may be sent */
    OPEN,
    /** a protocol, I/O or timeout failure closed the socket; every call fails */
    BROKEN,
    /** closed by the caller, after {@code NBD_CMD_DISC} when possible */
    CLOSED
  }

  private final Peer peer;
  private final Wire wire;
  private final ExportInfo export;
  private final Map<String, Integer> contextIds;
  private final int maxRequest;
  private final CmdRead cmdRead;
  private final CmdBlockStatus cmdBlockStatus;
  private final CmdWrite cmdWrite;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile State state = State.OPEN;
  private volatile NbdException brokenBy;
  private long nextCookie = 1;

  private NbdClient(Peer peer, Wire wire, Handshake.Negotiated negotiated, NbdOptions options) {
    this.peer = peer;
    this.wire = wire;
    this.export = negotiated.export();
    this.contextIds = Map.copyOf(negotiated.contextIds());
    int limit = Math.min(options.maxRequestSize(), export.maximumPayload());
    this.maxRequest = limit - limit % export.minimumBlockSize();
    this.cmdRead = new CmdRead(wire, peer, export.structuredReplies());
    this.cmdBlockStatus = new CmdBlockStatus(wire, peer);
    this.cmdWrite = new CmdWrite(wire, peer);
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
   * @throws NbdConnectionException if the socket cannot be opened, or breaks during the handshake
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
    Peer peer = new Peer(address, exportName);
    Wire wire = Wire.open(peer, options);
    try {
      NbdClient client = new NbdClient(peer, wire, Handshake.run(wire, peer, contexts), options);
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
    return state == State.OPEN;
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
    run(() -> {
      long at = offset;
      while (dst.hasRemaining()) {
        int piece = Math.min(dst.remaining(), maxRequest);
        log.debug("nbd {} -> NBD_CMD_READ offset {} length {}", peer, at, piece);
        ByteBuffer slice = dst.duplicate().limit(dst.position() + piece);
        cmdRead.execute(nextCookie++, at, slice);
        dst.position(slice.position());
        at += piece;
      }
      return null;
    });
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
    run(() -> {
      long at = offset;
      while (src.hasRemaining()) {
        int piece = Math.min(src.remaining(), maxRequest);
        log.debug("nbd {} -> NBD_CMD_WRITE offset {} length {}", peer, at, piece);
        ByteBuffer slice = src.duplicate().limit(src.position() + piece);
        cmdWrite.write(nextCookie++, at, slice);
        src.position(src.position() + piece);
        at += piece;
      }
      return null;
    });
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
    run(() -> {
      long at = offset;
      long end = offset + length;
      while (at < end) {
        int piece = (int) Math.min(end - at, limit);
        log.debug("nbd {} -> NBD_CMD_WRITE_ZEROES offset {} length {}", peer, at, piece);
        cmdWrite.writeZeroes(nextCookie++, at, piece);
        at += piece;
      }
      return null;
    });
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
    run(() -> {
      log.debug("nbd {} -> NBD_CMD_FLUSH", peer);
      cmdWrite.flush(nextCookie++);
      return null;
    });
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
    return run(() -> {
      List<Extent> result = new ArrayList<>();
      long end = offset + length;
      long at = offset;
      while (at < end) {
        int piece = (int) Math.min(end - at, MAX_BLOCK_STATUS_REQUEST);
        log.debug("nbd {} -> NBD_CMD_BLOCK_STATUS {} offset {} length {}", peer, context, at,
            piece);
        for (Extent extent : cmdBlockStatus.execute(nextCookie++, at, piece, id,
            contextIds.values())) {
          long clippedEnd = Math.min(extent.end(), end);
          append(result, new Extent(extent.offset(), clippedEnd - extent.offset(),
              extent.flags()));
          at = clippedEnd;
        }
      }
      return List.copyOf(result);
    });
  }

  /**
   * Sends {@code NBD_CMD_DISC} (best effort) and closes the socket. Idempotent. A call in flight
   * on another thread fails with {@link NbdConnectionException}.
   */
  @Override
  public void close() {
    if (state != State.OPEN) {
      wire.close();
      return;
    }
    if (lock.tryLock()) {
      try {
        if (state == State.OPEN) {
          state = State.CLOSED;
          disconnect();
        }
      } finally {
        lock.unlock();
      }
    } else {
      state = State.CLOSED;
    }
    wire.close();
  }

  private void disconnect() {
    try {
      wire.write(Request.encode(0, Protocol.NBD_CMD_DISC, nextCookie++, 0, 0), "NBD_CMD_DISC");
      log.debug("nbd {} -> NBD_CMD_DISC", peer);
    } catch (NbdException e) {
      log.debug("nbd {}: NBD_CMD_DISC not sent: {}", peer, e.getMessage());
    }
  }

  private <T> T run(Supplier<T> command) {
    lock.lock();
    try {
      requireOpen();
      try {
        return command.get();
      } catch (NbdCommandException e) {
        throw e;
      } catch (NbdException e) {
        brokenBy = e;
        state = State.BROKEN;
        wire.close();
        log.info("nbd connection to {} broken: {}", peer, e.getMessage());
        throw e;
      } catch (RuntimeException e) {
        state = State.BROKEN;
        wire.close();
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  private void requireOpen() {
    switch (state) {
      case OPEN -> {
        // proceed
      }
      case BROKEN -> throw NbdConnectionException.closed(peer.address(), peer.exportName(),
          "broken by an earlier failure: " + (brokenBy == null ? "?" : brokenBy.getMessage()),
          brokenBy);
      case CLOSED -> throw NbdConnectionException.closed(peer.address(), peer.exportName(),
          "closed by the client", null);
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
    return "NbdClient[" + peer + ", " + state + "]";
  }
}
