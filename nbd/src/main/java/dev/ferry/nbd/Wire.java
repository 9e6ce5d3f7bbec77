package dev.ferry.nbd;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import jdk.net.ExtendedSocketOptions;

/**
 * The socket, in two modes. During the handshake it is non-blocking and each read or write that
 * cannot progress waits on a selector for at most the I/O timeout, which plain
 * {@link SocketChannel}s (the only way to reach a UNIX socket) do not offer. For transmission
 * {@link #toBlocking()} switches it to blocking mode: one reader thread and the senders then each
 * block in their own system call (non-blocking, a socket that is momentarily empty costs a
 * selector registration and wait, several system calls per socket buffer of data), and {@link Transmission}'s watchdog enforces the timeout from
 * {@link #lastProgress()}, closing the socket to wake a blocked thread. Every failure is raised
 * as an {@link NbdException} naming the peer and what was being read or written.
 *
 * <p>After {@code NBD_OPT_STARTTLS}, {@link #startTls} layers an {@link SSLSocket} over the
 * (then blocking) TCP socket, and every later byte goes through its streams: the JDK's TLS works
 * on sockets, and {@link SSLSocket} lets one reader and one writer run at once, which is all
 * {@link Transmission} needs (its reader thread, and senders under a lock). During the rest of
 * the handshake the socket's read timeout stands in for the selector.
 */
final class Wire implements AutoCloseable {

  private final Peer peer;
  private final SocketChannel channel;
  private final Selector selector;
  private final Duration ioTimeout;
  private final boolean tcp;
  private volatile long lastProgress = System.nanoTime();
  // set once by startTls, before the reader thread starts
  private SSLSocket tlsSocket;
  private InputStream tlsIn;
  private OutputStream tlsOut;
  private byte[] readBounce; // the reader's (one thread at a time)
  private byte[] writeBounce; // the writer's (one thread at a time)

  /** The most bytes copied through a bounce buffer at a time: a TLS record's worth, 16 KiB. */
  private static final int BOUNCE = 16 << 10;

  private Wire(Peer peer, SocketChannel channel, Selector selector, Duration ioTimeout, boolean tcp) {
    this.peer = peer;
    this.channel = channel;
    this.selector = selector;
    this.ioTimeout = ioTimeout;
    this.tcp = tcp;
  }

  /** Connects within {@code options.connectTimeout()}. */
  static Wire open(Peer peer, NbdOptions options) {
    SocketChannel channel = null;
    Selector selector = null;
    try {
      boolean unix = peer.address() instanceof NbdAddress.Unix;
      channel = unix ? SocketChannel.open(StandardProtocolFamily.UNIX) : SocketChannel.open();
      channel.configureBlocking(false);
      if (!unix) {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      }
      selector = Selector.open();
      Wire wire = new Wire(peer, channel, selector, options.ioTimeout(),
          !unix && channel.supportedOptions().contains(ExtendedSocketOptions.TCP_QUICKACK));
      if (!channel.connect(peer.address().socketAddress())) {
        wire.await(SelectionKey.OP_CONNECT, options.connectTimeout(), "connecting");
        channel.finishConnect();
      }
      return wire;
    } catch (NbdTimeoutException e) {
      closeQuietly(channel, selector);
      throw e;
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel, selector);
      throw NbdConnectionException.cannotConnect(peer.address(), peer.exportName(), e);
    }
  }

  /** Reads exactly {@code n} bytes, returned ready to read (big-endian). */
  ByteBuffer read(int n, String what) {
    ByteBuffer buffer = ByteBuffer.allocate(n);
    readFully(buffer, what);
    return buffer.flip();
  }

  /** Fills {@code dst} from its position to its limit. */
  void readFully(ByteBuffer dst, String what) {
    if (tlsIn != null) {
      readTls(dst, what);
      return;
    }
    try {
      while (dst.hasRemaining()) {
        quickAck();
        int n = channel.read(dst);
        if (n < 0) {
          throw NbdConnectionException.hungUp(peer.address(), peer.exportName(), what);
        }
        if (n > 0) {
          lastProgress = System.nanoTime();
        } else {
          await(SelectionKey.OP_READ, ioTimeout, "reading " + what);
        }
      }
    } catch (IOException e) {
      throw NbdConnectionException.ioFailed(peer.address(), peer.exportName(), "reading " + what,
          e);
    }
  }

  /** Writes all of {@code src}. */
  void write(ByteBuffer src, String what) {
    if (tlsOut != null) {
      writeTls(src, what);
      return;
    }
    try {
      while (src.hasRemaining()) {
        if (channel.write(src) == 0) {
          await(SelectionKey.OP_WRITE, ioTimeout, "writing " + what);
        } else {
          lastProgress = System.nanoTime();
        }
      }
    } catch (IOException e) {
      throw NbdConnectionException.ioFailed(peer.address(), peer.exportName(), "writing " + what,
          e);
    }
  }

  /**
   * Switches the connection to TLS (after the server's {@code NBD_REP_ACK} to
   * {@code NBD_OPT_STARTTLS}): the TLS handshake, the server's certificate checked against
   * {@code tls}'s trust and hostname (HTTPS identification, so an IP SAN matches an IP). The
   * socket blocks from now on; reads wait at most the I/O timeout until {@link #toBlocking()}.
   * Writes have no timeout here, but the handshake's few small messages fit the socket buffer.
   */
  void startTls(NbdTls tls) {
    try {
      selector.close(); // deregisters the channel, which blocking mode requires
      channel.configureBlocking(true);
      int port = ((InetSocketAddress) channel.getRemoteAddress()).getPort();
      SSLSocket socket = (SSLSocket) tls.context().getSocketFactory()
          .createSocket(channel.socket(), tls.hostname(), port, true);
      socket.setUseClientMode(true);
      SSLParameters parameters = socket.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      socket.setSSLParameters(parameters);
      socket.setSoTimeout(Math.toIntExact(Math.clamp(ioTimeout.toMillis(), 1, Integer.MAX_VALUE)));
      tlsSocket = socket;
      socket.startHandshake();
      tlsIn = socket.getInputStream();
      tlsOut = socket.getOutputStream();
      readBounce = new byte[BOUNCE];
      writeBounce = new byte[BOUNCE];
      touch();
    } catch (SocketTimeoutException e) {
      throw new NbdTimeoutException(peer.address(), peer.exportName(),
          "the TLS handshake with " + tls.hostname(), ioTimeout);
    } catch (IOException | RuntimeException e) {
      throw NbdConnectionException.tlsFailed(peer.address(), peer.exportName(), tls.hostname(), e);
    }
  }

  private void readTls(ByteBuffer dst, String what) {
    try {
      while (dst.hasRemaining()) {
        quickAck();
        int n;
        if (dst.hasArray()) {
          n = tlsIn.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
          if (n > 0) {
            dst.position(dst.position() + n);
          }
        } else {
          n = tlsIn.read(readBounce, 0, Math.min(readBounce.length, dst.remaining()));
          if (n > 0) {
            dst.put(readBounce, 0, n);
          }
        }
        if (n < 0) {
          throw NbdConnectionException.hungUp(peer.address(), peer.exportName(), what);
        }
        lastProgress = System.nanoTime();
      }
    } catch (SocketTimeoutException e) {
      throw new NbdTimeoutException(peer.address(), peer.exportName(), "reading " + what,
          ioTimeout);
    } catch (IOException e) {
      throw NbdConnectionException.ioFailed(peer.address(), peer.exportName(),
          "reading " + what + " over TLS", e);
    }
  }

  private void writeTls(ByteBuffer src, String what) {
    try {
      if (src.hasArray()) {
        tlsOut.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
        src.position(src.limit());
        lastProgress = System.nanoTime();
        return;
      }
      while (src.hasRemaining()) {
        int n = Math.min(writeBounce.length, src.remaining());
        src.get(writeBounce, 0, n);
        tlsOut.write(writeBounce, 0, n);
        lastProgress = System.nanoTime();
      }
    } catch (IOException e) {
      throw NbdConnectionException.ioFailed(peer.address(), peer.exportName(),
          "writing " + what + " over TLS", e);
    }
  }

  /**
   * Acknowledges what arrives at once instead of after Linux's delayed-ACK timer (40 ms). QEMU's
   * NBD server (7.2) writes a reply in several pieces on a socket without {@code TCP_NODELAY}, so
   * Nagle holds each later piece until the earlier one is acknowledged: with delayed ACKs every
   * handshake option and every block-status round trip cost 40 ms (measured: connecting and two
   * block-status maps against a paused QEMU, 180 ms before, 5 ms after). Linux clears the flag
   * again on its own, hence before every read.
   */
  private void quickAck() throws IOException {
    if (tcp) {
      channel.setOption(ExtendedSocketOptions.TCP_QUICKACK, true);
    }
  }

  /**
   * Leaves the handshake's non-blocking mode for good: reads and writes block from now on, and
   * only a watchdog closing the socket ends a wait.
   */
  void toBlocking() {
    try {
      if (tlsSocket != null) {
        tlsSocket.setSoTimeout(0); // the watchdog's timeout from now on
      } else {
        selector.close(); // deregisters the channel, which blocking mode requires
        channel.configureBlocking(true);
      }
    } catch (IOException e) {
      throw NbdConnectionException.ioFailed(peer.address(), peer.exportName(),
          "entering the transmission phase", e);
    }
    touch();
  }

  /** {@link System#nanoTime()} of the last byte read or written (or of {@link #touch()}). */
  long lastProgress() {
    return lastProgress;
  }

  /** Restarts the timeout clock, as when a request is about to be sent to an idle server. */
  void touch() {
    lastProgress = System.nanoTime();
  }

  private void await(int op, Duration timeout, String doing) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    SelectionKey key;
    try {
      key = channel.register(selector, op);
    } catch (ClosedSelectorException | CancelledKeyException e) {
      throw new IOException("connection closed", e);
    }
    try {
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new NbdTimeoutException(peer.address(), peer.exportName(), doing, timeout);
        }
        // select(ms) with 0 would wait forever: wait at least 1 ms
        int ready;
        try {
          ready = selector.select(Math.max(1, left / 1_000_000));
        } catch (ClosedSelectorException e) {
          throw new IOException("connection closed", e); // by close() from another thread
        }
        if (ready > 0) {
          selector.selectedKeys().clear();
          return;
        }
        if (Thread.currentThread().isInterrupted()) {
          throw new IOException("interrupted");
        }
      }
    } finally {
      if (key.isValid()) {
        key.interestOps(0);
      }
    }
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  /**
   * Closes the socket; with TLS the channel first, which wakes a thread blocked in the TLS
   * socket's read or write (the watchdog's way to end a wait), then the TLS socket's own state.
   */
  @Override
  public void close() {
    closeQuietly(channel, selector);
    SSLSocket socket = tlsSocket;
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException ignored) {
        // the channel under it is closed already
      }
    }
  }

  private static void closeQuietly(SocketChannel channel, Selector selector) {
    try {
      if (selector != null) {
        selector.close();
      }
    } catch (IOException ignored) {
      // nothing to do: the selector holds no data
    }
    try {
      if (channel != null) {
        channel.close();
      }
    } catch (IOException ignored) {
      // nothing to do: the connection is being dropped anyway
    }
  }
}
