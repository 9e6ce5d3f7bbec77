package dev.ferry.controller;

import static dev.ferry.controller.TestCluster.GIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.DiskRequest;
import dev.ferry.api.VmCreateRequest;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same store, on a private PostgreSQL 15 (Debian package {@code postgresql}) started for this
 * class on a free port and stopped afterwards. Skipped where PostgreSQL is not installed or the
 * tests do not run as root (initdb must run as the {@code postgres} user).
 */
class PostgresStoreTest {

  static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  static Path pgDir;
  static int port;

  @TempDir Path dataDir;

  @BeforeAll
  static void startPostgres() throws Exception {
    assumeTrue(Files.isExecutable(BIN.resolve("initdb")), "PostgreSQL 15 is not installed");
    assumeTrue("root".equals(System.getProperty("user.name")), "initdb needs runuser, so root");
    pgDir = Files.createTempDirectory("ferry-pg");
    run("chown", "postgres", pgDir.toString());
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    run("runuser", "-u", "postgres", "--", BIN.resolve("initdb").toString(), "-D", pgDir.resolve("data").toString(),
        "-U", "ferry", "--auth=trust");
    run("runuser", "-u", "postgres", "--", BIN.resolve("pg_ctl").toString(), "-D", pgDir.resolve("data").toString(),
        "-l", pgDir.resolve("log").toString(), "-w", "-o", "-p " + port + " -k " + pgDir + " -h 127.0.0.1", "start");
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (pgDir == null) return;
    // stops exactly the server this class started: pg_ctl signals the pid in its postmaster.pid
    run("runuser", "-u", "postgres", "--", BIN.resolve("pg_ctl").toString(), "-D", pgDir.resolve("data").toString(),
        "-m", "fast", "-w", "stop");
    run("rm", "-rf", pgDir.toString());
  }

  ControllerConfig config() {
    // 3 s, not the 800 ms of the SQLite tests: registration, pool and VM creation each go through
    // PostgreSQL here, and on a loaded 2-core machine they took longer than 800 ms between two
    // heartbeats, so the host went unreachable mid-setup and the test failed for no fault of the code
    return ControllerConfig.loopback(dataDir, Duration.ofSeconds(3))
        .withDatabase("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "ferry", null);
  }

  @Test
  void postgres_createRestartAndReplay_keepsInventoryAndEvents() throws Exception {
    try (TestCluster c = new TestCluster(config())) {
      FakeAgent host1 = c.hostWithLocalPool("host1");
      assertThat(c.post("/api/vms", new VmCreateRequest("web", "host1", GIB, 1, "/pools/host1/local/vmlinuz", null,
          null, null, List.of(new DiskRequest(GIB, null, "raw")), true)).status()).isEqualTo(201);

      c.restart();

      JsonNode vm = c.get("/api/vms").json().get(0);
      assertThat(vm.get("name").asText()).isEqualTo("web");
      assertThat(vm.get("disks").get(0).get("format").asText()).isEqualTo("raw");
      assertThat(c.get("/api/pools").json().get(0).get("path").asText()).isEqualTo("/pools/host1/local");
      c.awaitHostState("host1", "unreachable", Duration.ofSeconds(10));
      host1.heartbeat(c.controller.url());
      assertThat(c.hostState("host1")).isEqualTo("online");
      assertThat(c.get("/api/vms/web").json().get("state").asText()).isEqualTo("running");
    }
  }

  private static void run(String... command) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(command));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
