package dev.ferry.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client over TLS ({@code NBD_OPT_STARTTLS}) against a real {@code qemu-nbd} that requires
 * it and verifies client certificates, as a source host's QEMU does: a CA, a server certificate
 * for 127.0.0.1 (IP SAN) and a client certificate, made with {@code openssl} in QEMU's
 * {@code tls-creds-x509} layout. The image: 16 MiB qcow2 with 64 KiB of 0x5a at 1 MiB.
 */
class NbdClientTlsIT {

  private static final int MIB = 1 << 20;
  private static final int DATA_OFFSET = MIB;
  private static final int DATA_LENGTH = 64 * 1024;

  @TempDir
  Path dir;

  private ChildProcesses processes;
  private Path certs;
  private NbdAddress address;
  private Process nbd;

  @BeforeAll
  static void requireTools() {
    ChildProcesses.assumeInstalled("qemu-nbd");
    ChildProcesses.assumeInstalled("qemu-img");
    ChildProcesses.assumeInstalled("qemu-io");
    ChildProcesses.assumeInstalled("openssl");
  }

  @BeforeEach
  void serveOverTls() throws Exception {
    processes = new ChildProcesses(dir);
    certs = Files.createDirectory(dir.resolve("tls"));
    makeCertificates();
    Path image = dir.resolve("disk0.qcow2");
    processes.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "16M");
    processes.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 64k", image.toString());
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    nbd = processes.start("qemu-nbd", "qemu-nbd",
        "--object", "tls-creds-x509,id=tls0,endpoint=server,dir=" + certs + ",verify-peer=on",
        "--tls-creds", "tls0", "--bind=127.0.0.1", "--port=" + port, "--format=qcow2",
        "--persistent", "--shared=4", "--export-name=disk0", image.toString());
    awaitListening(nbd, port);
    address = NbdAddress.tcp("127.0.0.1", port);
  }

  @AfterEach
  void stopProcesses() {
    processes.close();
  }

  @Test
  void read_overTls_readsTheDataAndBlockStatusShowsTheHole() throws Exception {
    NbdOptions tls = NbdOptions.defaults().withTls(new NbdTls(clientContext(), "127.0.0.1"));
    try (NbdClient client = NbdClient.connect(address, "disk0",
        List.of(MetaContexts.BASE_ALLOCATION), tls)) {
      assertThat(client.size()).isEqualTo(16L * MIB);
      assertThat(client.read(DATA_OFFSET, DATA_LENGTH)).containsOnly(0x5a);
      assertThat(client.read(0, 4096)).containsOnly(0);
      int holeAndZero = MetaContexts.STATE_HOLE | MetaContexts.STATE_ZERO;
      assertThat(client.blockStatus(0, client.size(), MetaContexts.BASE_ALLOCATION))
          .containsExactly(
              new Extent(0, DATA_OFFSET, holeAndZero),
              new Extent(DATA_OFFSET, DATA_LENGTH, 0),
              new Extent(DATA_OFFSET + DATA_LENGTH, 16L * MIB - DATA_OFFSET - DATA_LENGTH,
                  holeAndZero));
    }
  }

  @Test
  void read_overTlsIntoADirectBufferInManyRequests_matchesTheImage() throws Exception {
    // 48 KiB requests, several in flight: replies interleave through the one TLS stream, and a
    // direct buffer goes through the wire's bounce buffer
    NbdOptions tls = NbdOptions.defaults().withMaxRequestSize(48 * 1024)
        .withTls(new NbdTls(clientContext(), "127.0.0.1"));
    try (NbdClient client = NbdClient.connect(address, "disk0", List.of(), tls)) {
      ByteBuffer data = ByteBuffer.allocateDirect(2 * MIB);
      client.read(0, data);

      for (int i = 0; i < 2 * MIB; i++) {
        byte expected = i >= DATA_OFFSET && i < DATA_OFFSET + DATA_LENGTH ? (byte) 0x5a : 0;
        if (data.get(i) != expected) {
          throw new AssertionError("byte at offset " + i + " is " + data.get(i));
        }
      }
    }
  }

  @Test
  void read_serverStoppedMidConnection_theWatchdogEndsTheBlockedTlsRead() throws Exception {
    NbdOptions tls = NbdOptions.defaults().withIoTimeout(Duration.ofMillis(500))
        .withTls(new NbdTls(clientContext(), "127.0.0.1"));
    try (NbdClient client = NbdClient.connect(address, "disk0", List.of(), tls)) {
      signal("STOP");
      try {
        // the reader thread blocks in the TLS socket's read: only closing the socket wakes it
        assertThatThrownBy(() -> client.read(DATA_OFFSET, 4096))
            .isInstanceOfSatisfying(NbdTimeoutException.class,
                e -> assertThat(e.timeout()).isEqualTo(Duration.ofMillis(500)))
            .hasMessageEndingWith("made no progress for 500 ms while reading the reply to "
                + "NBD_CMD_READ");
        assertThat(client.isOpen()).isFalse();
        assertReaderEnds();
      } finally {
        signal("CONT");
      }
    }
  }

  /** The connection's reader thread ends while the server is still stopped: the close woke it. */
  private static void assertReaderEnds() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("nbd-reader-disk0") && t.isAlive())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the reader thread still blocks 5 s after the timeout");
      }
      Thread.sleep(20);
    }
  }

  /** Signals the qemu-nbd this test started, by its pid. */
  private void signal(String name) throws Exception {
    processes.run("kill", "-" + name, Long.toString(nbd.pid()));
  }

  @Test
  void connect_hostnameNotInTheServerCertificate_isRefusedByTheTlsHandshake() throws Exception {
    NbdOptions tls = NbdOptions.defaults().withTls(new NbdTls(clientContext(), "127.0.0.2"));

    assertThatThrownBy(() -> NbdClient.connect(address, "disk0", List.of(), tls))
        .isInstanceOf(NbdConnectionException.class)
        .hasMessageStartingWith("nbd connection to export 'disk0' at " + address
            + " failed: the TLS handshake with 127.0.0.2 failed")
        .hasMessageContaining("No subject alternative names matching IP address 127.0.0.2");
  }

  @Test
  void connect_withoutTls_isRefusedSayingTheServerRequiresTls() {
    assertThatThrownBy(() -> NbdClient.connect(address, "disk0", List.of()))
        .isInstanceOfSatisfying(NbdOptionException.class,
            e -> assertThat(e.reply()).isEqualTo("NBD_REP_ERR_TLS_REQD"))
        .hasMessageStartingWith("nbd server at " + address + " requires TLS");
  }

  @Test
  void connect_tlsOverAUnixSocket_isRefusedBeforeConnecting() throws Exception {
    NbdOptions tls = NbdOptions.defaults().withTls(new NbdTls(clientContext(), "localhost"));

    assertThatThrownBy(() -> NbdClient.connect(NbdAddress.unix(dir.resolve("none.sock")),
        "disk0", List.of(), tls))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TLS needs a TCP address");
  }

  /** CA, server (CN and IP SAN 127.0.0.1) and client certificates, EC P-256, PKCS#8 keys. */
  private void makeCertificates() throws Exception {
    String ca = certs.resolve("ca-cert.pem").toString();
    String caKey = dir.resolve("ca-key.pem").toString();
    processes.run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey, "-out", ca, "-days", "2",
        "-subj", "/CN=nbd test CA");
    issue("server", "/CN=127.0.0.1",
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n", ca, caKey);
    issue("client", "/CN=nbd test client", "extendedKeyUsage=clientAuth\n", ca, caKey);
  }

  private void issue(String name, String subject, String extensions, String ca, String caKey)
      throws Exception {
    String key = certs.resolve(name + "-key.pem").toString();
    String csr = dir.resolve(name + ".csr").toString();
    Path ext = dir.resolve(name + ".ext");
    Files.writeString(ext, extensions);
    processes.run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", csr, "-subj", subject);
    processes.run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey,
        "-CAcreateserial", "-out", certs.resolve(name + "-cert.pem").toString(), "-days", "2",
        "-extfile", ext.toString());
  }

  /** Trusts only the test CA and shows the client certificate (the server verifies peers). */
  private SSLContext clientContext() throws Exception {
    CertificateFactory x509 = CertificateFactory.getInstance("X.509");
    Certificate caCert;
    Certificate clientCert;
    try (InputStream in = Files.newInputStream(certs.resolve("ca-cert.pem"))) {
      caCert = x509.generateCertificate(in);
    }
    try (InputStream in = Files.newInputStream(certs.resolve("client-cert.pem"))) {
      clientCert = x509.generateCertificate(in);
    }
    String pem = Files.readString(certs.resolve("client-key.pem"));
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(
        Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""))));

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", caCert);
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry("client", key, new char[0], new Certificate[] {clientCert});
    KeyManagerFactory kmf =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(keys, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return context;
  }

  private void awaitListening(Process nbd, int port) throws Exception {
    for (int attempt = 0; ; attempt++) {
      try (Socket probe = new Socket()) {
        probe.connect(new InetSocketAddress("127.0.0.1", port), 1000);
        return;
      } catch (IOException e) {
        if (!nbd.isAlive() || attempt > 200) {
          throw new AssertionError("qemu-nbd not listening: " + processes.log("qemu-nbd"), e);
        }
        Thread.sleep(25);
      }
    }
  }
}
