package dev.ferry.nbd;

import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * TLS for a connection ({@code NBD_OPT_STARTTLS}, as QEMU's {@code tls-creds-x509} servers
 * require).
 *
 * @param context holds the client's certificate and key (for servers that verify peers) and the
 *     CA the server's certificate must chain to
 * @param hostname the name the server's certificate must carry, checked as HTTPS does (so an IP
 *     address matches an IP SAN); usually the host the client dials
 */
public record NbdTls(SSLContext context, String hostname) {

  public NbdTls {
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(hostname, "hostname");
    if (hostname.isBlank()) {
      throw new IllegalArgumentException("hostname must not be blank");
    }
  }
}
