package dev.ferry.cli.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.api.tls.TlsContexts;
import dev.ferry.api.tls.TlsDir;
import dev.ferry.cli.CliException;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterCaTest {

  @TempDir Path tmp;

  @Test
  void init_writesCertAndKey_keyAndDirPrivate_refusedOverAnExistingCa() throws Exception {
    ClusterCa ca = ClusterCa.init(tmp.resolve("ca"), "test CA");

    assertThat(mode(tmp.resolve("ca"))).isEqualTo("rwx------");
    assertThat(mode(tmp.resolve("ca/ca-key.pem"))).isEqualTo("rw-------");
    assertThat(Files.readString(tmp.resolve("ca/ca-key.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
    X509Certificate cert = TlsContexts.certificates(tmp.resolve("ca/ca-cert.pem")).getFirst();
    assertThat(cert.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(cert.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(cert.getPublicKey().toString()).contains("secp256r1");
    cert.verify(cert.getPublicKey());
    assertThat(ClusterCa.load(tmp.resolve("ca")).certificate()).isEqualTo(ca.certificate());

    assertThatThrownBy(() -> ClusterCa.init(tmp.resolve("ca"), "again")).isInstanceOf(CliException.class)
        .hasMessageContaining("already holds a CA");
    assertThat(TlsContexts.certificates(tmp.resolve("ca/ca-cert.pem")).getFirst()).isEqualTo(cert);
  }

  @Test
  void issue_writesTheQemuLayout_signedByTheCa_forTheNameAndEveryAddress() throws Exception {
    ClusterCa ca = ClusterCa.init(tmp.resolve("ca"), "test CA");
    ClusterCa.Issued issued = ca.issue("host1", List.of("10.0.0.5", "host1.example.org", "fd00::5"), tmp.resolve("h1"));

    TlsDir d = issued.dir();
    assertThat(mode(d.dir())).isEqualTo("rwx------");
    assertThat(mode(d.serverKey())).isEqualTo("rw-------");
    assertThat(mode(d.clientKey())).isEqualTo("rw-------");
    assertThat(Files.readString(d.caCert())).isEqualTo(Files.readString(ca.certFile()));
    assertThat(Files.readString(d.clientCert())).isEqualTo(Files.readString(d.serverCert()));
    X509Certificate cert = TlsContexts.certificates(d.serverCert()).getFirst();
    cert.verify(ca.certificate().getPublicKey());
    cert.checkValidity();
    assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=host1");
    assertThat(issued.subject()).isEqualTo("CN=host1");
    assertThat(cert.getBasicConstraints()).isEqualTo(-1);
    assertThat(cert.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(cert.getKeyUsage()[0]).as("digitalSignature").isTrue();
    assertThat(cert.getKeyUsage()[2]).as("keyEncipherment, which QEMU's sanity check wants").isTrue();
    assertThat(cert.getSubjectAlternativeNames()).extracting(n -> n.get(1).toString())
        .containsExactly("host1", "10.0.0.5", "host1.example.org", "fd00:0:0:0:0:0:0:5");
    assertThat(issued.sans()).containsExactly("host1", "10.0.0.5", "host1.example.org", "fd00::5");
  }

  /** Regression: QEMU 7.2's GnuTLS refused the JDK's PKCS#8 EC key, whose inner structure has no public key. */
  @Test
  void issue_keyCarriesItsPublicKey_forGnuTls() throws Exception {
    ClusterCa ca = ClusterCa.init(tmp.resolve("ca"), "test CA");
    TlsDir d = ca.issue("host1", List.of(), tmp.resolve("h1")).dir();
    String b64 = Files.readString(d.serverKey()).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    var info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(java.util.Base64.getDecoder().decode(b64));
    var inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    assertThat(inner.getPublicKey()).isNotNull();
    assertThat(inner.getPublicKey().getOctets()).isEqualTo(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo
        .getInstance(TlsContexts.certificates(d.serverCert()).getFirst().getPublicKey().getEncoded())
        .getPublicKeyData().getOctets());
  }

  @Test
  void issue_badSubjectAltName_refusedNamingIt() {
    ClusterCa ca = ClusterCa.init(tmp.resolve("ca"), "test CA");
    assertThatThrownBy(() -> ca.issue("host1", List.of("bad name!"), tmp.resolve("h1")))
        .isInstanceOf(CliException.class).hasMessageContaining("'bad name!'");
    assertThat(tmp.resolve("h1")).doesNotExist();
  }

  @Test
  void handshake_nodesOfOneCaTalk_aClientWithoutCertificateOrFromAnotherCaIsRefused() throws Exception {
    ClusterCa ca = ClusterCa.init(tmp.resolve("ca"), "test CA");
    TlsDir agent = ca.issue("host1", List.of("127.0.0.1"), tmp.resolve("h1")).dir();
    TlsDir controller = ca.issue("controller", List.of("127.0.0.1"), tmp.resolve("c")).dir();
    TlsDir stranger = ClusterCa.init(tmp.resolve("other"), "other CA").issue("controller", List.of("127.0.0.1"),
        tmp.resolve("s")).dir();

    assertThat(handshake(TlsContexts.server(agent), TlsContexts.client(controller))).isNull();
    assertThat(handshake(TlsContexts.server(agent), TlsContexts.trusting(controller.caCert())))
        .as("no client certificate").isNotNull();
    assertThat(handshake(TlsContexts.server(agent), TlsContexts.client(stranger)))
        .as("a certificate of another CA").isNotNull();
  }

  /** One TLS handshake over loopback with client authentication required; null when both ends agree. */
  private static Exception handshake(SSLContext server, SSLContext client) throws Exception {
    try (SSLServerSocket listener = (SSLServerSocket) server.getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listener.setNeedClientAuth(true);
      CompletableFuture<Exception> served = CompletableFuture.supplyAsync(() -> {
        try (SSLSocket s = (SSLSocket) listener.accept()) {
          s.startHandshake();
          s.getOutputStream().write(1);
          s.getOutputStream().flush();
          return null;
        } catch (IOException e) {
          return e;
        }
      });
      try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("127.0.0.1", listener.getLocalPort())) {
        var params = s.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        s.setSSLParameters(params);
        s.startHandshake();
        // TLS 1.3 sends the client certificate after the client's handshake is done: a read tells
        if (s.getInputStream().read() != 1) return new IOException("no byte");
      } catch (IOException e) {
        served.get(10, TimeUnit.SECONDS);
        return e;
      }
      return served.get(10, TimeUnit.SECONDS);
    }
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}
