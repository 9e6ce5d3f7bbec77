package dev.ferry.app;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.ferry.api.Json;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local cluster of real processes (controller, two agents, QEMU) driven through the CLI, as a
 * user drives it. The tests share one cluster and one VM and run in order: each one leaves the
 * cluster in the state the next one starts from. Credentials and roles (once AuthIT, with a cluster
 * of its own started the same way) come last: a cluster up costs daemons, a network and CLI calls.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir static Path dir;

  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final Duration HOST_TIMEOUT = Duration.ofSeconds(3);
  private static FerryProcess ferry;
  private static Path kernel;
  private static Path initrd;

  @BeforeAll
  static void clusterUp() throws Exception {
    ferry = new FerryProcess(dir);
    ferry.ok("cluster", "up", "--hosts", "2", "--host-timeout", HOST_TIMEOUT.toSeconds() + "s");
    ownClusterPids();
    Path guestDir = dir.resolve("pools/shared/guest");
    Files.createDirectories(guestDir);
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
  }

  @AfterAll
  static void clusterDown() {
    if (ferry != null) ferry.run("cluster", "down");
  }

  @Test
  @Order(1)
  void vmCreate_throughTheCli_bootsAndTheConsoleShowsTheWorkload() throws Exception {
    var created = ferry.ok("vm", "create", "web", "--host", "host1", "--memory", "256M",
        "--kernel", kernel.toString(), "--initrd", initrd.toString(),
        "--append", TestGuest.append("ferry.mem=16:4 ferry.disk=1:8"), "--disk", "32M@local", "--json");
    owned.own(created.json().get("pid").asLong());
    GuestConsole console = console("host1");

    console.await(GuestLine.Ready.class, BOOT);
    console.await(GuestLine.MemStatus.class, m -> m.gen() >= 1, BOOT);
    console.await(GuestLine.DiskStatus.class, d -> d.block() > 0, BOOT);

    var cli = ferry.ok("vm", "console", "web", "--tail", "40");
    assertThat(cli.out()).contains("FERRY HB", "FERRY MEM", "FERRY DISK");
    JsonNode show = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(show.get("host").asText()).isEqualTo("host1");
    assertThat(show.get("state").asText()).isEqualTo("running");
    assertThat(show.get("memory_requested_bytes").asLong()).isEqualTo(256L << 20);
    assertThat(show.at("/disks/0/pool").asText()).isEqualTo("local");
    assertThat(show.at("/disks/0/path").asText()).startsWith(dir.resolve("hosts/host1/local").toString());
    assertCleanWorkload(console);
    assertQemuConfined(show.get("pid").asLong(), Path.of(show.at("/disks/0/path").asText()));
  }

  /** Issue 10: the guest's QEMU is not root, runs under seccomp, and its files are private to it. */
  private static void assertQemuConfined(long pid, Path disk) throws Exception {
    String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
    String uid = status.lines().filter(l -> l.startsWith("Uid:")).findFirst().orElseThrow();
    assertThat(uid.split("\\s+")).as(uid).hasSize(5).allSatisfy(id -> assertThat(id).isNotEqualTo("0"));
    assertThat(status.lines()).as(status).contains("Seccomp:\t2");
    Path run = dir.resolve("hosts/host1/vms/web/run");
    int qemuUid = Integer.parseInt(uid.split("\\s+")[1]);
    assertPrivate(run, "rwx------", qemuUid);
    assertPrivate(run.resolve("console.log"), "rw-------", qemuUid);
    assertPrivate(run.resolve("qemu.log"), "rw-------", 0);
    assertPrivate(disk, "rw-------", qemuUid);
    assertPrivate(dir.resolve("pools/shared/guest/vmlinuz"), "rw-------", qemuUid);
  }

  private static void assertPrivate(Path p, String mode, int owner) throws Exception {
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(p.toString())
        .isEqualTo(mode);
    assertThat(Files.getAttribute(p, "unix:uid")).as(p.toString()).isEqualTo(owner);
  }

  @Test
  @Order(2)
  void controllerRestart_inventoryIntactHostsReconnectVmUntouched() throws Exception {
    JsonNode before = ferry.ok("vm", "show", "web", "--json").json();
    GuestConsole console = console("host1");
    long seq = console.lastHeartbeat().orElseThrow().seq();
    long controllerPid = cluster().at("/controller/pid").asLong();

    ProcessHandle.of(controllerPid).orElseThrow().destroyForcibly();
    ProcessHandle.of(controllerPid).ifPresent(p -> p.onExit().join());
    ferry.ok("cluster", "up", "--hosts", "2", "--host-timeout", HOST_TIMEOUT.toSeconds() + "s");
    ownClusterPids();

    assertThat(hostStates()).containsOnly("online");
    JsonNode after = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(after.get("pid").asLong()).isEqualTo(before.get("pid").asLong());
    assertThat(after.get("state").asText()).isEqualTo("running");
    assertThat(after.get("disks")).isEqualTo(before.get("disks"));
    assertThat(ferry.ok("vm", "list", "--json").json()).hasSize(1);
    console.awaitHeartbeatAfter(seq + 1, Duration.ofSeconds(20));
    assertCleanWorkload(console);
  }

  @Test
  @Order(3)
  void agentKilled_clusterUpAgain_guestNeverNoticedAndIsManagedAgain() throws Exception {
    GuestConsole console = console("host1");
    var hb = console.awaitHeartbeatAfter(0, BOOT);
    long qemuPid = ferry.ok("vm", "show", "web", "--json").json().get("pid").asLong();
    long agentPid = agentPid("host1");

    ProcessHandle.of(agentPid).orElseThrow().destroyForcibly();
    ProcessHandle.of(agentPid).ifPresent(p -> p.onExit().join());
    assertThat(ProcessHandle.of(qemuPid)).get().matches(ProcessHandle::isAlive, "qemu outlives its agent");
    console.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(20));
    ferry.ok("cluster", "up", "--hosts", "2", "--host-timeout", HOST_TIMEOUT.toSeconds() + "s");
    ownClusterPids();
    assertThat(agentPid("host1")).isNotEqualTo(agentPid);

    var after = console.awaitHeartbeatAfter(hb.seq() + 4, Duration.ofSeconds(20));
    assertThat(after.boot()).as("same boot: the guest never restarted").isEqualTo(hb.boot());
    assertContinuousHeartbeats(console);
    assertCleanWorkload(console);
    JsonNode show = ferry.ok("vm", "show", "web", "--json").json();
    assertThat(show.get("pid").asLong()).isEqualTo(qemuPid);
    assertThat(show.get("state").asText()).isEqualTo("running");

    ferry.ok("vm", "stop", "web", "--timeout", "30s");
    assertThat(ferry.ok("vm", "show", "web", "--json").json().get("state").asText()).isEqualTo("stopped");
    assertThat(ProcessHandle.of(qemuPid).filter(ProcessHandle::isAlive)).isEmpty();
  }

  @Test
  @Order(4)
  void agentStopsHeartbeating_hostUnreachableWithinTheTimeoutThenBack() throws Exception {
    long agentPid = agentPid("host2");
    java.time.Instant stopped = java.time.Instant.now();
    signal("STOP", agentPid);
    try {
      awaitHostState("host2", "unreachable", HOST_TIMEOUT.multipliedBy(3));
      // timed by the controller's own clock (the event's time against the host's last heartbeat
      // in it), not by polls through the CLI, whose JVM start alone takes ~1 s on a loaded machine
      JsonNode mark = firstHostStateEvent("host2", "unreachable", stopped);
      long ms = Duration.between(java.time.Instant.parse(mark.at("/data/last_heartbeat").asText()),
          java.time.Instant.parse(mark.get("time").asText())).toMillis();
      // the sweep runs every timeout/5, so the mark lands at most one sweep after the timeout
      assertThat(ms).as(mark.toString()).isBetween(HOST_TIMEOUT.toMillis(), HOST_TIMEOUT.toMillis() * 6 / 5 + 500);
      assertThat(hostState("host1")).isEqualTo("online");
    } finally {
      signal("CONT", agentPid);
    }
    awaitHostState("host2", "online", Duration.ofSeconds(15));
  }

  @Test
  @Order(5)
  void badInput_eachGetsAClearErrorAndChangesNothing() throws Exception {
    JsonNode vmsBefore = ferry.ok("vm", "list", "--json").json();
    Path outside = Files.writeString(dir.resolve("outside-kernel"), "not in a pool");

    assertRefused(ferry.run("vm", "create", "Bad_Name", "--host", "host1", "--memory", "256M",
        "--kernel", kernel.toString(), "--initrd", initrd.toString()), "name", "Bad_Name");
    assertRefused(ferry.run("vm", "create", "x1", "--host", "host1", "--memory", "256M",
        "--kernel", outside.toString(), "--initrd", initrd.toString()), "kernel", outside.toString());
    assertRefused(ferry.run("vm", "create", "x2", "--host", "host9", "--memory", "256M",
        "--kernel", kernel.toString(), "--initrd", initrd.toString()), "host", "host9");
    assertRefused(ferry.run("vm", "create", "x3", "--host", "host1", "--memory", "1T",
        "--kernel", kernel.toString(), "--initrd", initrd.toString()), "memory");
    // issue 10's trick: a qcow2 inside a pool whose backing file is a host file; refused naming that file
    Path evil = dir.resolve("pools/shared/evil.qcow2");
    Process img = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname",
        evil.toString()).redirectErrorStream(true).start();
    assertThat(img.waitFor()).as(new String(img.getInputStream().readAllBytes())).isZero();
    assertRefused(ferry.run("vm", "create", "x5", "--host", "host1", "--memory", "256M", "--image", evil.toString()),
        "disks[0].path", "/etc/hostname");
    assertRefused(ferry.run("vm", "create", "x6", "--host", "host1", "--memory", "256M", "--kernel", kernel.toString(),
        "--initrd", initrd.toString(), "--append", "console=ttyS0\u001b[2J"), "append", "printable ASCII");
    List<String> poolsBefore = pools();
    assertRefused(ferry.run("pool", "create", "everything", "--host", "host1", "--path", "/"), "path", "'/'");
    assertRefused(ferry.run("pool", "create", "etc", "--host", "host1", "--path", "/etc"), "path", "/etc",
        dir.toString());
    assertThat(pools()).isEqualTo(poolsBefore);
    var wrongToken = ferry.withEnv("FERRY_CONTROLLER", controllerUrl()).withEnv("FERRY_TOKEN", "wrong")
        .run("vm", "list", "--controller", controllerUrl());
    assertThat(wrongToken.exit()).as(wrongToken.toString()).isEqualTo(1);
    assertThat(wrongToken.err()).contains("token");

    assertThat(post("/api/vms", "{\"name\": \"x4\", ", token()).statusCode()).isEqualTo(400);
    assertThat(post("/api/vms", "{\"name\": \"" + "x".repeat(2 << 20) + "\"}", token()).statusCode()).isEqualTo(413);
    var noToken = post("/api/vms", "{}", null);
    assertThat(noToken.statusCode()).isEqualTo(401);
    assertThat(noToken.headers().firstValue("content-type")).get().asString().contains("problem+json");

    assertThat(ferry.ok("vm", "list", "--json").json()).isEqualTo(vmsBefore);
    assertThat(Files.list(dir.resolve("hosts/host1/local")).map(p -> p.getFileName().toString()).toList())
        .allMatch(name -> name.startsWith("web-"));
  }

  /**
   * Every API is HTTPS only: plain HTTP gets no answer, the certificates verify against the CA
   * named in cluster.json, and an agent serves only a client that shows a certificate of the
   * cluster CA (the controller's), not one that merely has the token.
   */
  @Test
  @Order(6)
  void tls_everyApiHttpsOnly_verifiedAgainstTheClusterCa_agentsWantAClusterCertificate() throws Exception {
    String ca = cluster().get("ca_file").asText();
    assertThat(controllerUrl()).startsWith("https://127.0.0.1:");
    int agentPort = StreamSupport.stream(cluster().get("agents").spliterator(), false)
        .filter(a -> a.get("name").asText().equals("host1")).findFirst().orElseThrow().get("port").asInt();
    String agent = "127.0.0.1:" + agentPort + "/agent/host";
    String controller = controllerUrl().replaceFirst("^https://", "") + "/api/hosts";
    String auth = "Authorization: Bearer " + token();
    Path hostTls = dir.resolve("hosts/host1/tls");

    Curl plainAgent = curl("-H", auth, "http://" + agent);
    assertThat(plainAgent.exit()).as(plainAgent.toString()).isNotZero();
    assertThat(plainAgent.status()).isEqualTo("000");
    Curl plainController = curl("-H", auth, "http://" + controller);
    assertThat(plainController.exit()).as(plainController.toString()).isNotZero();
    assertThat(plainController.status()).isEqualTo("000");
    Curl unverified = curl("-H", auth, "https://" + controller);
    assertThat(unverified.exit()).as("no CA given: " + unverified).isEqualTo(60);

    Curl api = curl("--cacert", ca, "-H", auth, "https://" + controller);
    assertThat(api.status()).as(api.toString()).isEqualTo("200");
    assertThat(api.body()).contains("\"url\":\"https://127.0.0.1:" + agentPort + "\"");
    Curl tokenOnly = curl("--cacert", ca, "-H", auth, "https://" + agent);
    assertThat(tokenOnly.exit()).as("no client certificate: " + tokenOnly).isNotZero();
    assertThat(tokenOnly.status()).isNotEqualTo("200");
    Curl userToken = curl("--cacert", ca, "--cert", hostTls.resolve("client-cert.pem").toString(),
        "--key", hostTls.resolve("client-key.pem").toString(), "-H", auth, "https://" + agent);
    assertThat(userToken.status()).as("agents accept the controller's credential only: " + userToken).isEqualTo("401");
    String controllerAuth = "Authorization: Bearer "
        + Files.readString(dir.resolve("controller/controller-credential")).strip();
    Curl withCert = curl("--cacert", ca, "--cert", hostTls.resolve("client-cert.pem").toString(),
        "--key", hostTls.resolve("client-key.pem").toString(), "-H", controllerAuth, "https://" + agent);
    assertThat(withCert.status()).as(withCert.toString()).isEqualTo("200");
    assertThat(withCert.body()).contains("\"name\":\"host1\"");

    // the cluster's key material is private to its owner
    for (Path p : List.of(dir.resolve("ca"), dir.resolve("controller/tls"), hostTls)) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
          .as(p.toString()).isEqualTo("rwx------");
    }
    for (Path p : List.of(dir.resolve("ca/ca-key.pem"), hostTls.resolve("server-key.pem"),
        dir.resolve("controller/tls/client-key.pem"))) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
          .as(p.toString()).isEqualTo("rw-------");
    }
  }

  record Curl(int exit, String status, String body, String err) {}

  /** One curl call; {@code status} is curl's %{http_code} ("000" when no HTTP answer came). */
  private static Curl curl(String... args) throws Exception {
    Path body = Files.createTempFile(dir, "curl", ".out");
    List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "-o", body.toString(),
        "-w", "%{http_code}"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    String err = new String(p.getErrorStream().readAllBytes()).strip();
    int exit = p.waitFor();
    return new Curl(exit, out, Files.readString(body), err);
  }

  /** Each pool as name@host:path (free space changes as the guest writes). */
  private static List<String> pools() {
    return StreamSupport.stream(ferry.ok("pool", "list", "--json").json().spliterator(), false)
        .map(p -> p.get("name").asText() + "@" + p.get("host").asText() + ":" + p.get("path").asText()).toList();
  }

  /**
   * Credentials and roles on real processes (each agent enrolled with its own credential), one VM,
   * and the refusals a user would try: an agent's credential on user endpoints, a heartbeat for
   * host1 with host2's credential, a user token at an agent, a viewer's migration; then the audit
   * log, and no secret on any command line. Last, on this class's cluster (the same {@code cluster
   * up} it would start for itself): the earlier tests' VM is deleted first, so there is one VM.
   */
  @Test
  @Order(7)
  void credentialsRolesAuditAndCommandLines() throws Exception {
    ferry.ok("vm", "delete", "web");
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
    assertThat(call("POST", controllerUrl() + "/api/vms/web/kill", null, host1).statusCode()).isEqualTo(403);

    // host2's credential cannot speak for host1: its forged heartbeat (a URL of its choosing) is refused
    JsonNode before = host("host1");
    ObjectNode forged = Json.mapper().createObjectNode().put("name", "host1").put("url", "http://127.0.0.1:9")
        .put("cpus", 64).put("memory_bytes", 1L << 40).put("qemu_version", "9.9.9").put("accelerator", "kvm");
    forged.putArray("pools");
    forged.putArray("vms");
    var hb = call("POST", controllerUrl() + "/api/agents/heartbeat", forged.toString(), host2);
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

  private static void assertRefused(FerryProcess.Result r, String... mentions) {
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).as(r.toString()).startsWith("ferry: ").contains(mentions);
  }

  private static void assertCleanWorkload(GuestConsole console) {
    console.assertClean();
    assertThat(console.lines(GuestLine.Ready.class)).as("the guest booted once").hasSize(1);
  }

  /** Heartbeats count up by one with no restart: the workload never stopped or rebooted. */
  private static void assertContinuousHeartbeats(GuestConsole console) {
    List<GuestLine.Heartbeat> hbs = console.lines(GuestLine.Heartbeat.class);
    for (int i = 1; i < hbs.size(); i++) {
      assertThat(hbs.get(i).seq()).as("heartbeat after seq " + hbs.get(i - 1).seq()).isEqualTo(hbs.get(i - 1).seq() + 1);
      assertThat(hbs.get(i).boot()).isEqualTo(hbs.getFirst().boot());
    }
  }

  private static GuestConsole console(String host) {
    return ferry.console(host, "web");
  }


  private static JsonNode cluster() {
    return ferry.clusterFile();
  }


  private static void ownClusterPids() {
    ferry.componentPids().forEach(owned::own);
  }


  private static long agentPid(String host) throws Exception {
    return StreamSupport.stream(cluster().get("agents").spliterator(), false)
        .filter(a -> a.get("name").asText().equals(host)).findFirst().orElseThrow().get("pid").asLong();
  }

  private static String controllerUrl() throws Exception {
    return cluster().get("controller_url").asText();
  }

  private static String token() throws Exception {
    return Files.readString(Path.of(cluster().get("token_file").asText())).strip();
  }

  private static List<String> hostStates() {
    return StreamSupport.stream(ferry.ok("host", "list", "--json").json().spliterator(), false)
        .map(h -> h.get("state").asText()).toList();
  }

  private static String hostState(String host) {
    return StreamSupport.stream(ferry.ok("host", "list", "--json").json().spliterator(), false)
        .filter(h -> h.get("name").asText().equals(host)).findFirst().orElseThrow().get("state").asText();
  }

  /** The first {@code host.state} event of {@code host} into {@code state} after {@code since}, replayed from the store. */
  private static JsonNode firstHostStateEvent(String host, String state, java.time.Instant since) throws Exception {
    var req = HttpRequest.newBuilder(URI.create(controllerUrl() + dev.ferry.api.ApiPaths.EVENTS))
        .header("Authorization", "Bearer " + token()).header("Accept", "text/event-stream").header("Last-Event-ID", "0")
        .build();
    var tls = dev.ferry.api.tls.TlsContexts.trusting(Path.of(cluster().get("ca_file").asText()));
    try (HttpClient http = HttpClient.newBuilder().sslContext(tls).build()) {
      var lines = http.sendAsync(req, HttpResponse.BodyHandlers.ofLines());
      return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try (var stream = lines.join().body()) {
          return stream.filter(l -> l.startsWith("data:")).map(l -> {
            try {
              return Json.mapper().readTree(l.substring(5));
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }).filter(e -> e.path("kind").asText().equals("host.state") && e.path("subject").asText().equals(host)
              && e.at("/data/state").asText().equals(state)
              && !java.time.Instant.parse(e.get("time").asText()).isBefore(since)).findFirst().orElseThrow();
        }
      }).get(20, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private static void awaitHostState(String host, String state, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (!hostState(host).equals(state)) {
      if (System.nanoTime() > until) throw new AssertionError(host + " not " + state + " within " + timeout);
      Thread.sleep(200);
    }
  }

  private static void signal(String sig, long pid) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start().waitFor()).isZero();
  }

  private static HttpResponse<String> post(String path, String body, String token) throws Exception {
    var req = HttpRequest.newBuilder(URI.create(controllerUrl() + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) req.header("Authorization", "Bearer " + token);
    var tls = dev.ferry.api.tls.TlsContexts.trusting(Path.of(cluster().get("ca_file").asText()));
    try (HttpClient http = HttpClient.newBuilder().sslContext(tls).build()) {
      return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    }
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
