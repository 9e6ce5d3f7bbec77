package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.api.Json;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Credentials and roles on real processes: a local cluster from {@code ferry cluster up} (each
 * agent enrolled with its own credential), one VM, and the refusals a user would try: an agent's
 * credential on user endpoints, a heartbeat for host1 with host2's credential, a user token at an
 * agent, a viewer's migration; then the audit log, and no secret on any command line.
 */
class AuthIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static FerryProcess ferry;

  @BeforeAll
  static void clusterUp() throws Exception {
    ferry = new FerryProcess(dir);
    ferry.ok("cluster", "up", "--hosts", "2", "--host-timeout", "3s");
    ferry.componentPids().forEach(owned::own);
  }

  @AfterAll
  static void clusterDown() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  void credentialsRolesAuditAndCommandLines() throws Exception {
    Path guest = Files.createDirectories(dir.resolve("pools/shared/guest"));
    Path kernel = Files.copy(TestGuest.get().kernel(), guest.resolve("vmlinuz"));
    Path initrd = Files.copy(TestGuest.get().initrd(), guest.resolve("initrd.img"));
    String admin = secret(Path.of(ferry.clusterFile().get("token_file").asText()));
    String host1 = credential("host1");
    String host2 = credential("host2");
    String controllerCredential = secret(dir.resolve("controller/controller-credential"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("hosts/host1/credential"))))
        .isEqualTo("rw-------");

    // a viewer: its token printed once (JSON field token), kept in a 0600 file
    String viewer = ferry.ok("token", "create", "alice", "--role", "viewer", "--json").json().get("token").asText();
    Path viewerFile = dir.resolve("alice.token");
    Files.writeString(viewerFile, viewer);
    Files.setPosixFilePermissions(viewerFile, PosixFilePermissions.fromString("rw-r--r--"));
    var loose = ferry.run("vm", "list", "--token-file", viewerFile.toString());
    assertThat(loose.exit()).as(loose.toString()).isEqualTo(1);
    assertThat(loose.err()).contains(viewerFile.toString(), "mode 0644", "0600");
    Files.setPosixFilePermissions(viewerFile, PosixFilePermissions.fromString("rw-------"));
    assertThat(ferry.ok("token", "list", "--json").out()).contains("alice", "viewer").doesNotContain(viewer, admin);

    var vm = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", TestGuest.append("ferry.mem=8:4"), "--json").json();
    owned.own(vm.get("pid").asLong());

    // the viewer lists, but cannot migrate: 403 naming the role needed, no migration exists
    assertThat(ferry.ok("vm", "list", "--json", "--token-file", viewerFile.toString()).json()).hasSize(1);
    var migrate = ferry.run("migrate", "live", "web", "--to", "host2", "--token-file", viewerFile.toString());
    assertThat(migrate.exit()).as(migrate.toString()).isEqualTo(1);
    assertThat(migrate.err()).contains("needs role operator");
    assertThat(ferry.ok("migration", "list", "--json").json()).isEmpty();

    // an agent's credential is refused on user endpoints, through the CLI and over HTTP
    var asAgent = ferry.withEnv("FERRY_TOKEN", host1).run("vm", "list");
    assertThat(asAgent.exit()).as(asAgent.toString()).isEqualTo(1);
    assertThat(asAgent.err()).contains("host credential");
    assertThat(call("POST", controller() + "/api/vms/web/kill", null, host1).statusCode()).isEqualTo(403);

    // host2's credential cannot speak for host1: its forged heartbeat (a URL of its choosing) is refused
    JsonNode before = host("host1");
    ObjectNode forged = Json.mapper().createObjectNode().put("name", "host1").put("url", "http://127.0.0.1:9")
        .put("cpus", 64).put("memory_bytes", 1L << 40).put("qemu_version", "9.9.9").put("accelerator", "kvm");
    forged.putArray("pools");
    forged.putArray("vms");
    var hb = call("POST", controller() + "/api/agents/heartbeat", forged.toString(), host2);
    assertThat(hb.statusCode()).as(hb.body()).isEqualTo(403);
    assertThat(hb.body()).contains("'host2'", "'host1'");
    assertThat(host("host1").get("url").asText()).isEqualTo(before.get("url").asText());
    assertThat(host("host1").get("cpus").asInt()).isEqualTo(before.get("cpus").asInt());

    // agents accept the controller's credential only: a user token, even the admin's, is refused
    String agentUrl = before.get("url").asText();
    assertThat(call("GET", agentUrl + "/agent/host", null, admin).statusCode()).isEqualTo(401);
    assertThat(call("GET", agentUrl + "/agent/host", null, host1).statusCode()).isEqualTo(401);
    assertThat(call("GET", agentUrl + "/agent/host", null, controllerCredential).statusCode()).isEqualTo(200);

    // no secret on any command line: a CLI call in flight, the controller, both agents, QEMU
    var pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-jar", FerryProcess.jar().toString(), "vm", "console", "web", "--follow",
        "--token-file", viewerFile.toString())
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    pb.environment().put("FERRY_CLUSTER_DIR", dir.toString());
    pb.environment().remove("FERRY_TOKEN");
    Process follow = pb.start();
    owned.own(follow.pid());
    try {
      List<Long> pids = new ArrayList<>(ferry.componentPids());
      pids.add(vm.get("pid").asLong());
      pids.add(follow.pid());
      Thread.sleep(1_500); // the CLI is connected and polling by now
      assertThat(follow.isAlive()).isTrue();
      List<String> secrets = List.of(admin, viewer, host1, host2, controllerCredential);
      for (long pid : pids) {
        String cmdline = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
            .replace('\0', ' ');
        assertThat(cmdline).as("pid " + pid + " has a command line").isNotBlank();
        for (String s : secrets) assertThat(cmdline).as("/proc/" + pid + "/cmdline").doesNotContain(s);
      }
    } finally {
      follow.destroyForcibly();
      follow.onExit().join();
    }

    // every mutating call above is in the audit log: who, what, on what, and how it ended
    ferry.ok("vm", "kill", "web");
    List<String> audit = new ArrayList<>();
    for (JsonNode e : ferry.ok("audit", "list", "--json").json()) {
      audit.add(e.get("actor").asText() + " " + e.get("action").asText() + " " + e.get("target").asText() + " "
          + e.get("outcome").asText());
    }
    assertThat(audit).containsSubsequence(
        "admin vm.kill web ok",
        "host:host2 host.heartbeat host1 refused",
        "host:host1 vm.kill web refused",
        "alice migration.live web refused",
        "admin vm.create web ok",
        "admin token.create alice ok",
        "admin host.enroll host2 ok",
        "admin host.enroll host1 ok");
    assertThat(ferry.ok("audit", "list", "--json", "--actor", "alice").json()).hasSize(1);
    var viewerAudit = ferry.run("audit", "list", "--token-file", viewerFile.toString());
    assertThat(viewerAudit.exit()).isEqualTo(1);
    assertThat(viewerAudit.err()).contains("needs role admin");
  }

  private static String controller() {
    return ferry.clusterFile().get("controller_url").asText();
  }

  private static JsonNode host(String name) {
    return StreamSupport.stream(ferry.ok("host", "list", "--json").json().spliterator(), false)
        .filter(h -> h.get("name").asText().equals(name)).findFirst().orElseThrow();
  }

  private static String secret(Path file) throws Exception {
    return Files.readString(file).strip();
  }

  private static String credential(String host) throws Exception {
    return Json.mapper().readTree(dir.resolve("hosts").resolve(host).resolve("credential").toFile())
        .get("credential").asText();
  }

  private static HttpResponse<String> call(String method, String url, String body, String token) throws Exception {
    var req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    // host1's TLS directory: the cluster CA to verify both APIs, and a cluster client certificate the agents want
    var tls = dev.ferry.api.tls.TlsContexts.client(new dev.ferry.api.tls.TlsDir(dir.resolve("hosts/host1/tls")));
    try (HttpClient http = HttpClient.newBuilder().sslContext(tls).build()) {
      return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    }
  }
}
