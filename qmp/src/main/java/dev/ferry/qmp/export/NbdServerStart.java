package dev.ferry.qmp.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * {@code nbd-server-start}: starts QEMU's built-in NBD server; exports are then added with
 * {@link BlockExportAdd}. One server per QEMU process.
 *
 * <p>The address uses QAPI's legacy {@code SocketAddressLegacy} syntax,
 * {@code {type: unix, data: {path: ...}}}: QEMU 7.2 refuses the flat syntax that
 * {@code blockdev-add} takes ({@code "Parameter 'addr.data' is missing"}).
 *
 * @param address where to listen
 * @param tls     TLS and the one client identity let in, or null for none (a UNIX socket in a
 *                private directory)
 */
public record NbdServerStart(Address address, Tls tls) implements QmpCommand<Void> {

  public NbdServerStart {
    Objects.requireNonNull(address, "address");
  }

  public NbdServerStart(Address address) {
    this(address, null);
  }

  /**
   * {@code tls-creds} (a server-endpoint {@code tls-creds-x509} object), {@code tls-authz} (an
   * authz object naming the clients let in) and {@code max-connections} (0: unlimited).
   */
  public record Tls(String credsId, String authzId, int maxConnections) {
    public Tls {
      ArgumentMap.requireName(credsId, "tls-creds");
      ArgumentMap.requireName(authzId, "tls-authz");
      if (maxConnections < 0) throw new IllegalArgumentException("max-connections must not be negative");
    }
  }

  /** The same server over TLS. */
  public NbdServerStart withTls(Tls t) {
    return new NbdServerStart(address, t);
  }

  /** Listens on a UNIX socket at {@code path}; QEMU creates the file. */
  public static NbdServerStart unix(Path path) {
    return new NbdServerStart(new Address.Unix(path));
  }

  /**
   * Listens on TCP. QEMU 7.2 accepts port 0, but Ferry found no QMP query that tells the port
   * the kernel chose: pick a free port yourself.
   */
  public static NbdServerStart tcp(String host, int port) {
    return new NbdServerStart(new Address.Inet(host, port));
  }

  /** Where the NBD server listens. */
  public sealed interface Address {

    /** The {@code addr} argument in legacy syntax. */
    Map<String, Object> toQapi();

    /** A UNIX socket. */
    record Unix(Path path) implements Address {

      public Unix {
        Objects.requireNonNull(path, "path");
      }

      @Override
      public Map<String, Object> toQapi() {
        return ArgumentMap.create()
            .with("type", "unix")
            .with("data", Map.of("path", path.toString()))
            .build();
      }
    }

    /** A TCP host and port; QAPI's {@code InetSocketAddress} writes the port as a string. */
    record Inet(String host, int port) implements Address {

      public Inet {
        ArgumentMap.requireName(host, "host");
        if (port < 0 || port > 65_535) {
          throw new IllegalArgumentException("port out of range: " + port);
        }
      }

      @Override
      public Map<String, Object> toQapi() {
        return ArgumentMap.create()
            .with("type", "inet")
            .with("data", ArgumentMap.create()
                .with("host", host)
                .with("port", Integer.toString(port))
                .build())
            .build();
      }
    }
  }

  @Override
  public String name() {
    return "nbd-server-start";
  }

  @Override
  public Map<String, ?> arguments() {
    var args = ArgumentMap.create().with("addr", address.toQapi());
    if (tls != null) {
      args.with("tls-creds", tls.credsId()).with("tls-authz", tls.authzId());
      if (tls.maxConnections() > 0) args.with("max-connections", tls.maxConnections());
    }
    return args.build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
