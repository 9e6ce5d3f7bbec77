package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.WarmCopyRequest;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.api.agent.WarmPassCopy;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The target agent's part of issue 13's faults, with the real copier and a real NBD server
 * ({@code qemu-nbd} over TCP, read-only, as the source's export) behind a link this test cuts:
 * a pass whose connections are cut fails saying so and is never reported copied short; the same
 * pass run again copies everything. An agent killed mid-pass is played by what SIGKILL leaves on
 * disk (the record {@code DATA/warm/copies/ID.json} saying copying, a half-written image): a new
 * agent on that data directory fails the pass from its record and runs the same pass again into
 * the same image, instead of starting over. The link cut is repeated over TLS (qemu-nbd with
 * {@code tls-creds-x509}, verify-peer on), the way every real deployment copies. No QEMU: pass 0
 * needs no dirty bitmap.
 */
class WarmPassFaultsIT {

  private static final long MIB = 1L << 20;
  private static final long SIZE = 64 * MIB;
  private static final long DATA = 16 * MIB;
  /** slow enough to cut it midway, fast enough to keep the test short */
  private static final long BANDWIDTH = 32 * MIB;
  private static final String ID = "0f5e2c1a-7b7e-4c55-9a59-1f2a3b4c5d6e";

  @TempDir Path dir;
  private final List<Process> started = new ArrayList<>();
  private Path source;
  private CuttableLink link;
  private ColdExport export;

  @BeforeAll
  static void requireQemuTools() {
    for (String tool : List.of("qemu-nbd", "qemu-img", "qemu-io")) {
      assumeTrue(which(tool) != null, tool + " is not installed");
    }
  }

  @BeforeEach
  void serveTheSource() throws Exception {
    source = dir.resolve("src.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", source.toString(), Long.toString(SIZE));
    run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 6M", "-c", "write -P 0x22 30M 6M", "-c",
        "write -P 0x33 60M 4M", source.toString());
    serve(null);
  }

  /**
   * Serves the source with {@code qemu-nbd} behind a new cuttable link; with {@code tlsDir}, over
   * TLS only, checking the client's certificate, as a source QEMU's NBD server does.
   */
  private void serve(Path tlsDir) throws Exception {
    if (link != null) link.close();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of("qemu-nbd", "--bind=127.0.0.1", "--port=" + port, "--format=qcow2",
        "--read-only", "--persistent", "--shared=16", "--export-name=web-disk0"));
    if (tlsDir != null) {
      cmd.addAll(List.of("--object", "tls-creds-x509,id=tls0,endpoint=server,dir=" + tlsDir + ",verify-peer=on",
          "--tls-creds", "tls0"));
    }
    cmd.add(source.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("qemu-nbd.log").toFile()).start();
    started.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      try (var probe = new java.net.Socket("127.0.0.1", port)) {
        break;
      } catch (java.io.IOException e) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          throw new AssertionError("qemu-nbd: " + Files.readString(dir.resolve("qemu-nbd.log")));
        }
        Thread.sleep(20);
      }
    }
    link = new CuttableLink(port);
    export = new ColdExport(ID, "127.0.0.1", link.port(), tlsDir != null, p.pid(),
        List.of(new ColdExport.ColdExportDisk("disk0", "web-disk0", "qcow2", SIZE)));
  }

  @AfterEach
  void stop() throws Exception {
    if (link != null) link.close();
    for (Process p : started) {
      p.destroy();
      if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly();
    }
  }

  @Test
  void linkCutMidPass_failsSayingSoNeverShort_thenTheSamePassCopiesEverything() throws Exception {
    cutMidPassThenRunItAgain(agent());
  }

  /**
   * The same cut over TLS, as every real deployment copies: Ferry's NBD client does the TLS itself,
   * so a link cut inside a TLS record must end the pass as a failure too, never as a short copy.
   */
  @Test
  void overTls_linkCutMidPass_failsSayingSoNeverShort_thenTheSamePassCopiesEverything() throws Exception {
    assumeTrue(which("openssl") != null, "openssl is not installed");
    Path tls = makeCertificates();
    serve(tls);
    cutMidPassThenRunItAgain(agent(tls));
  }

  /** Pass 0 with the link cut after 4 MiB fails and says so; the same pass over the restored link copies all. */
  private void cutMidPassThenRunItAgain(WarmCopies copies) throws Exception {
    WarmCopyStatus made = copies.start(ID, request());
    Path image = Path.of(made.disks().getFirst().path());

    link.cutAfter(4 * MIB);
    copies.pass(ID, new WarmPassCopy(0, export, null));
    WarmCopyStatus failed = awaitEnd(copies);

    assertThat(link.cuts()).as("the link was cut").isEqualTo(1);
    assertThat(failed.state()).as(failed.toString()).isEqualTo(WarmCopyStatus.FAILED);
    assertThat(failed.error()).as("the failure says why").isNotBlank();
    assertThat(failed.passCopiedBytes()).as("a short pass").isLessThan(DATA);
    assertThat(Files.readString(dir.resolve("data/warm/copies/" + ID + ".json"))).as("the record says failed")
        .contains("\"failed\"");
    assertThat(compare(image)).as("the image is not the source (and was never reported copied)").isEqualTo(1);

    link.restore();
    copies.pass(ID, new WarmPassCopy(0, export, null));
    WarmCopyStatus done = awaitEnd(copies);

    assertThat(done.state()).as(done.toString()).isEqualTo(WarmCopyStatus.COPIED);
    assertThat(done.passCopiedBytes()).isEqualTo(DATA);
    assertThat(compare(image)).as("qemu-img compare source and copy").isZero();
    assertKeptHashesAreTheSources(copies);
  }

  /**
   * One node certificate (CN and IP SAN 127.0.0.1, server and client use, EC P-256, PKCS#8 key)
   * from a test CA, in the layout of {@link dev.ferry.api.tls.TlsDir}, which QEMU's
   * {@code tls-creds-x509} reads too: qemu-nbd serves with it, the agent presents it.
   */
  private Path makeCertificates() throws Exception {
    Path certs = Files.createDirectories(dir.resolve("tls"));
    String ca = certs.resolve("ca-cert.pem").toString();
    String caKey = dir.resolve("ca-key.pem").toString();
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey,
        "-out", ca, "-days", "2", "-subj", "/CN=warm test CA");
    String key = certs.resolve("server-key.pem").toString();
    String csr = dir.resolve("node.csr").toString();
    Path ext = Files.writeString(dir.resolve("node.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n");
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=127.0.0.1");
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out",
        certs.resolve("server-cert.pem").toString(), "-days", "2", "-extfile", ext.toString());
    Files.copy(certs.resolve("server-cert.pem"), certs.resolve("client-cert.pem"));
    Files.copy(certs.resolve("server-key.pem"), certs.resolve("client-key.pem"));
    return certs;
  }

  @Test
  void agentKilledMidPass_theNewAgentFailsThePassFromItsRecordAndRunsTheSamePassAgain() throws Exception {
    WarmCopies before = agent();
    WarmCopyStatus made = before.start(ID, request());
    Path image = Path.of(made.disks().getFirst().path());
    Path recordFile = dir.resolve("data/warm/copies/" + ID + ".json");
    before.pass(ID, new WarmPassCopy(0, export, null));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (before.status(ID).passCopiedBytes() < 2 * MIB && System.nanoTime() < until) Thread.sleep(5);
    // what SIGKILL leaves now: the record saying pass 0 copies, the image half written
    String onDisk = Files.readString(recordFile);
    assertThat(onDisk).contains("\"copying\"");
    link.cutAfter(0);
    awaitEnd(before);
    Files.writeString(recordFile, onDisk);
    link.restore();

    WarmCopies after = agent();
    WarmCopyStatus found = after.status(ID);
    assertThat(found.state()).isEqualTo(WarmCopyStatus.FAILED);
    assertThat(found.pass()).as("the pass it was at").isZero();
    assertThat(found.error()).isEqualTo("the agent restarted during pass 0");
    assertThat(after.start(ID, request()).disks()).as("the same images, not new ones").isEqualTo(made.disks());

    after.pass(ID, new WarmPassCopy(0, export, null));
    WarmCopyStatus done = awaitEnd(after);

    assertThat(done.state()).as(done.toString()).isEqualTo(WarmCopyStatus.COPIED);
    assertThat(done.pass()).isZero();
    assertThat(compare(image)).as("qemu-img compare source and copy").isZero();
    assertKeptHashesAreTheSources(after);
  }

  /**
   * What the cutover compares: the hashes the passes kept of the copy, none computed afresh, equal
   * to the source's own, hashed whole now in chunks of the same size.
   */
  private void assertKeptHashesAreTheSources(WarmCopies copies) throws Exception {
    HashLedger kept = HashLedger.read(dir.resolve("data/warm/copies/" + ID + ".hashes")).orElseThrow();
    assertThat(kept.unknownChunks()).as("every chunk hashed by the pass").isZero();
    var target = copies.hashes(ID).getFirst();
    var src = images().fill("disk0", source, "qcow2", target.chunkBytes(), null);
    assertThat(target.chunkBytes()).isEqualTo(MIB);
    assertThat(target.sha256()).hasSize((int) (SIZE / MIB)).isEqualTo(src.sha256());
  }

  private static dev.ferry.agent.cold.ImageHashes images() {
    Path qemuImg = Path.of(which("qemu-img"));
    Path daemon = Path.of(java.util.Objects.requireNonNullElse(which("qemu-storage-daemon"), "/usr/bin/qemu-storage-daemon"));
    return new dev.ferry.agent.cold.ImageHashes(daemon, qemuImg);
  }

  /** A target agent on {@code DIR/data} with pool {@code local}, as constructed at the agent's start. */
  private WarmCopies agent() throws Exception {
    return agent(null);
  }

  private WarmCopies agent(Path tlsDir) throws Exception {
    Path data = dir.resolve("data");
    Pools pools = Pools.load(data, "host2");
    pools.define("local", data.resolve("pools/local").toString(), false);
    Path qemuImg = Path.of(which("qemu-img"));
    Path daemon = Path.of(java.util.Objects.requireNonNullElse(which("qemu-storage-daemon"), "/usr/bin/qemu-storage-daemon"));
    return new WarmCopies(data, pools, Vms.load(data, "host2", pools, null), daemon, qemuImg, tlsDir,
        new dev.ferry.agent.cold.ImageHashes(daemon, qemuImg));
  }

  private WarmCopyRequest request() {
    return new WarmCopyRequest("web", export, List.of(new ColdCopyRequest.Disk("disk0", "local", "raw")), BANDWIDTH);
  }

  private static WarmCopyStatus awaitEnd(WarmCopies copies) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until) {
      WarmCopyStatus s = copies.status(ID);
      if (!s.state().equals(WarmCopyStatus.COPYING)) return s;
      Thread.sleep(20);
    }
    throw new AssertionError("the pass did not end: " + copies.status(ID));
  }

  /** qemu-img compare's exit status: 0 equal, 1 different. */
  private int compare(Path image) throws Exception {
    Process p = new ProcessBuilder("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", source.toString(),
        image.toString()).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", List.of(cmd), out).isZero();
  }

  private static String which(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) return Path.of(d, tool).toString();
    }
    return null;
  }
}
