package dev.ferry.nbd;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
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
 */
final class Wire implements AutoCloseable {

  private final Peer peer;
  private final SocketChannel channel;
  private final Selector selector;
  private final Duration ioTimeout;
  private final boolean tcp;
  private volatile long lastProgress = System.nanoTime();

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
      selector.close(); // deregisters the channel, which blocking mode requires
      channel.configureBlocking(true);
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

  @Override
  public void close() {
    closeQuietly(channel, selector);
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
