package dev.ferry.agent.warm;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on loopback between a copier and its NBD server that a test can cut: once the
 * server has sent {@code cutAfter} bytes through it, every connection is closed (both ends, as a
 * dropped link or a reset looks to each side) and new ones are refused until {@link #restore}.
 */
final class CuttableLink implements AutoCloseable {

  private final ServerSocket listener;
  private final int upstreamPort;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final AtomicLong downstream = new AtomicLong();
  private volatile long cutAfter = Long.MAX_VALUE;
  private volatile boolean down;
  private volatile int cuts;

  CuttableLink(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("link-accept").start(this::accept);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** The link goes down once {@code bytes} more came from the server. */
  void cutAfter(long bytes) {
    cutAfter = downstream.get() + bytes;
  }

  void restore() {
    cutAfter = Long.MAX_VALUE;
    down = false;
  }

  int cuts() {
    return cuts;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        if (down) {
          client.close();
          continue;
        }
        Socket server = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
        open.add(client);
        open.add(server);
        Thread.ofPlatform().daemon().start(() -> pump(client, server, false));
        Thread.ofPlatform().daemon().start(() -> pump(server, client, true));
      } catch (IOException e) {
        // closed
      }
    }
  }

  private void pump(Socket from, Socket to, boolean fromServer) {
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        if (down) break;
        out.write(buf, 0, n);
        if (fromServer && downstream.addAndGet(n) >= cutAfter) cut();
      }
    } catch (IOException e) {
      // the other side or the cut closed it
    } finally {
      close(from);
      close(to);
    }
  }

  private synchronized void cut() {
    if (down) return;
    down = true;
    cuts++;
    for (Socket s : open) close(s);
    open.clear();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : open) close(s);
  }
}
