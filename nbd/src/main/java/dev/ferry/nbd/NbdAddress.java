package dev.ferry.nbd;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.Objects;

/** Where an NBD server listens: a UNIX socket (QEMU's usual) or a TCP host and port. */
public sealed interface NbdAddress {

  /** A UNIX socket. */
  static NbdAddress unix(Path path) {
    return new Unix(path);
  }

  /** A TCP host and port; 10809 is NBD's registered port. */
  static NbdAddress tcp(String host, int port) {
    return new Tcp(host, port);
  }

  /** The socket address to connect to; resolves a TCP host name. */
  SocketAddress socketAddress();

  /** A UNIX socket at {@code path}; shown as {@code unix:PATH}. */
  record Unix(Path path) implements NbdAddress {

    public Unix {
      Objects.requireNonNull(path, "path");
    }

    @Override
    public SocketAddress socketAddress() {
      return UnixDomainSocketAddress.of(path);
    }

    @Override
    public String toString() {
      return "unix:" + path;
    }
  }

  /** A TCP endpoint; shown as {@code tcp:HOST:PORT}. */
  record Tcp(String host, int port) implements NbdAddress {

    public Tcp {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      if (port <= 0 || port > 65_535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
    }

    @Override
    public SocketAddress socketAddress() {
      return new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
      return "tcp:" + host + ":" + port;
    }
  }
}
