package dev.ferry.api.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@link SSLContext}s from PEM files with the JDK alone (the CLI carries no crypto library): the
 * trust is exactly the cluster CA, never the JDK's public roots, so a certificate from anywhere
 * else fails the handshake. Keys are unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), which both
 * the JDK and QEMU's GnuTLS read.
 */
public final class TlsContexts {

  private static final char[] NO_PASSWORD = new char[0];

  private TlsContexts() {}

  /** What a node's HTTPS server uses: its certificate, and the CA to check a client certificate against. */
  public static SSLContext server(TlsDir dir) {
    return context(dir.caCert(), dir.serverCert(), dir.serverKey());
  }

  /** What a node's HTTP client uses: the CA to check servers against, and its certificate to show. */
  public static SSLContext client(TlsDir dir) {
    return context(dir.caCert(), dir.clientCert(), dir.clientKey());
  }

  /** A client that trusts {@code caFile} and shows no certificate (the CLI). */
  public static SSLContext trusting(Path caFile) {
    return context(caFile, null, null);
  }

  private static SSLContext context(Path caFile, Path certFile, Path keyFile) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      int i = 0;
      for (X509Certificate ca : certificates(caFile)) trust.setCertificateEntry("ca" + i++, ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (certFile != null) {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("node", privateKey(keyFile), NO_PASSWORD,
            certificates(certFile).toArray(new Certificate[0]));
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, NO_PASSWORD);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw new TlsException("cannot load TLS files (" + caFile + (certFile == null ? "" : ", " + certFile) + "): "
          + e.getMessage(), e);
    }
  }

  /** Every certificate in a PEM file; at least one. */
  public static List<X509Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(pem)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) throw new GeneralSecurityException(pem + " holds no certificate");
      return out;
    }
  }

  /** An unencrypted PKCS#8 key, EC or RSA. */
  static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
    String text = Files.readString(pem);
    int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = text.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new GeneralSecurityException(pem + " is not an unencrypted PKCS#8 key (BEGIN PRIVATE KEY)");
    }
    byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 27, end));
    var spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new GeneralSecurityException(pem + " holds a key of an unsupported algorithm");
  }
}
