package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon that cannot start says why in one line, like the CLI, and exits 1 (a bad flag: 2).
 * Before issue 10 a port in use printed "ferry: unexpected dev.ferry.agent.AgentException: …"
 * (the agent) or "unexpected io.javalin.util.JavalinBindException" (the controller).
 */
class DaemonStartupIT {

  @TempDir
  Path tmp;

  @Test
  void controller_portInUse_saysSoInOneLine() throws Exception {
    try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      var r = ferry().run("controller", "--data", tmp.resolve("c").toString(), "--listen", "127.0.0.1:" + taken.getLocalPort());

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      assertOneClearLine(r, "ferry: controller cannot start: ");
      assertThat(errorLine(r)).contains("Port already in use").contains(String.valueOf(taken.getLocalPort()));
    }
  }

  @Test
  void agent_portInUse_saysSoInOneLine() throws Exception {
    try (var taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      var r = ferry().run("agent", "--credential-file", credential("h1").toString(), "--name", "h1", "--accel", "tcg",
          "--listen", "127.0.0.1:" + taken.getLocalPort(), "--data", tmp.resolve("a").toString(),
          "--controller", "http://127.0.0.1:9");

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      assertOneClearLine(r, "ferry: agent h1 cannot start: cannot listen on 127.0.0.1:" + taken.getLocalPort());
    }
  }

  @Test
  void controller_dataDirectoryUnderAFile_saysSoInOneLine() throws Exception {
    Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
    var r = ferry().run("controller", "--data", file.resolve("data").toString(), "--listen", "127.0.0.1:0");

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertOneClearLine(r, "ferry: controller cannot start: cannot create data directory " + file.resolve("data"));
  }

  @Test
  void agent_missingCredentialFile_isAUsageErrorInOneLine() {
    var r = ferry().run("agent", "--name", "h1", "--listen", "127.0.0.1:0", "--data", tmp.resolve("a").toString(),
        "--controller", "http://127.0.0.1:9", "--credential-file", tmp.resolve("missing").toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).startsWith("ferry: --credential-file: secret file " + tmp.resolve("missing") + " does not exist");
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void agent_badFlag_isAUsageErrorInOneLine() {
    var r = ferry().run("agent", "--credential-file", credential("h1").toString(), "--name", "h1", "--listen", "127.0.0.1:0",
        "--data", tmp.resolve("a").toString(), "--controller", "http://127.0.0.1:9", "--heartbeat-interval", "2");

    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().lines().findFirst().orElseThrow()).startsWith("ferry: ").contains("--heartbeat-interval");
    assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void agent_unknownAccelerator_isAUsageErrorInOneLine() {
    var r = ferry().run("agent", "--credential-file", credential("h1").toString(), "--name", "h1", "--listen", "127.0.0.1:0",
        "--data", tmp.resolve("a").toString(), "--controller", "http://127.0.0.1:9", "--accel", "hvf");

    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().lines().findFirst().orElseThrow()).isEqualTo("ferry: --accel 'hvf' is not one of auto, kvm, tcg");
  }

  /** On a machine whose KVM does not work, --accel kvm refuses to start rather than emulate. */
  @Test
  void agent_accelKvmWithoutWorkingKvm_saysWhyInOneLine() {
    org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.isWritable(Path.of("/dev/kvm")),
        "this machine has a /dev/kvm; whether a guest runs under it is AcceleratorProbeIT's question");
    var r = ferry().run("agent", "--credential-file", credential("h1").toString(), "--name", "h1", "--listen", "127.0.0.1:0",
        "--data", tmp.resolve("a").toString(), "--controller", "http://127.0.0.1:9", "--accel", "kvm");

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertOneClearLine(r, "ferry: agent h1 cannot start: --accel kvm, but kvm does not work on this host: /dev/kvm");
  }

  @Test
  void controller_unreadableConfig_saysSoInOneLine() {
    var r = ferry().run("controller", "--config", tmp.resolve("missing.conf").toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertOneClearLine(r, "ferry: config file " + tmp.resolve("missing.conf") + " cannot be read");
  }

  @Test
  void agent_configWithAnUnknownKey_isAUsageErrorNamingTheKey() throws Exception {
    Path conf = Files.writeString(tmp.resolve("agent.conf"), "name = h1\ncontroler = http://127.0.0.1:9\n");
    var r = ferry().run("agent", "--config", conf.toString());

    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertOneClearLine(r, "ferry: " + conf + ":2: unknown key 'controler' for ferry agent (known: ");
  }

  /** A host credential file as 'ferry host enroll' writes it (0600). */
  private Path credential(String host) {
    Path file = tmp.resolve(host + ".credential");
    dev.ferry.api.auth.SecretFile.write(file, "{\"host\": \"" + host + "\", \"credential\": \"t0ken\","
        + " \"controller_credential_sha256\": \"" + "c".repeat(64) + "\"}");
    return file;
  }

  private static FerryProcess ferry() {
    return new FerryProcess(Path.of(System.getProperty("java.io.tmpdir")));
  }

  /** The one line starting "ferry:" (log lines may precede it); no type names, no stack trace. */
  private static void assertOneClearLine(FerryProcess.Result r, String prefix) {
    List<String> ferryLines = r.err().lines().filter(l -> l.startsWith("ferry:")).toList();
    assertThat(ferryLines).as(r.toString()).hasSize(1);
    assertThat(ferryLines.getFirst()).as(r.toString()).startsWith(prefix).doesNotContain("unexpected")
        .doesNotContain("Exception");
    assertThat(r.err()).as(r.toString()).doesNotContain("\tat ");
  }

  private static String errorLine(FerryProcess.Result r) {
    return r.err().lines().filter(l -> l.startsWith("ferry:")).findFirst().orElseThrow();
  }
}
