package dev.ferry.api.tls;

import java.nio.file.Path;

/**
 * A node's TLS directory, in the layout QEMU's {@code tls-creds-x509} object reads, so that one
 * directory serves the daemon's HTTPS and the QEMUs it starts:
 *
 * <pre>
 * ca-cert.pem      the cluster CA every peer is checked against
 * server-cert.pem  this node's certificate (serverAuth and clientAuth)
 * server-key.pem   its private key, PKCS#8, mode 0600
 * client-cert.pem  the same certificate, for QEMU's client endpoint
 * client-key.pem   the same key
 * </pre>
 *
 * The directory itself is 0700: QEMU and the daemon run as the same user.
 */
public record TlsDir(Path dir) {

  public static final String CA_CERT = "ca-cert.pem";
  public static final String SERVER_CERT = "server-cert.pem";
  public static final String SERVER_KEY = "server-key.pem";
  public static final String CLIENT_CERT = "client-cert.pem";
  public static final String CLIENT_KEY = "client-key.pem";

  public TlsDir {
    if (dir == null) throw new IllegalArgumentException("the TLS directory must not be null");
    dir = dir.toAbsolutePath().normalize();
  }

  public Path caCert() {
    return dir.resolve(CA_CERT);
  }

  public Path serverCert() {
    return dir.resolve(SERVER_CERT);
  }

  public Path serverKey() {
    return dir.resolve(SERVER_KEY);
  }

  public Path clientCert() {
    return dir.resolve(CLIENT_CERT);
  }

  public Path clientKey() {
    return dir.resolve(CLIENT_KEY);
  }
}
