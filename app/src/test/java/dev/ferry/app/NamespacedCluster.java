package dev.ferry.app;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A controller and two agents started as separate daemons in network namespaces, in one of two
 * placements: {@link #start} puts host2 behind a real link ({@link TwoHostNetwork}), so cutting it
 * stalls the migration stream and the controller's calls to host2 the way a pulled cable does;
 * {@link #isolated} puts every daemon (and the CLI, beside the controller) in a namespace of its own
 * on one bridge ({@link NetnsTopology}), so every stream crosses a real interface. Each daemon can
 * be SIGKILLed and started again with the same address and data, as systemd would restart it.
 */
final class NamespacedCluster implements AutoCloseable {

  static final Duration SETTLE = Duration.ofSeconds(60);

  /** the two-host link of {@link #start}, null for {@link #isolated} */
  final TwoHostNetwork net;
  /** the namespaces of {@link #isolated}, null for {@link #start} */
  final NetnsTopology topology;
  final FerryProcess ferry;
  final ClusterChecks checks;
  final Path kernel;
  final Path initrd;
  /** the agents' names, host1 … */
  final List<String> hosts;
  private final Path dir;
  private final OwnedProcesses owned;
  private final String controllerUrl;
  private final Path token;
  private final Map<String, String> listen = new HashMap<>();
  private final Map<String, Long> pids = new HashMap<>();
  /** added to every daemon's environment, e.g. FERRY_FAULT_DIR */
  private final Map<String, String> daemonEnv;

  private NamespacedCluster(Path dir, OwnedProcesses owned, TwoHostNetwork net, NetnsTopology topology,
      List<String> hosts, Map<String, String> daemonEnv) throws Exception {
    this.dir = dir;
    this.hosts = List.copyOf(hosts);
    this.daemonEnv = Map.copyOf(daemonEnv);
    this.owned = owned;
    this.net = net;
    this.topology = topology;
    String here = net != null ? net.hereAddress : topology.node("controller").address();
    int port = net != null ? net.freePortHere() : 7100;
    controllerUrl = "https://" + here + ":" + port;
    token = dir.resolve("controller/token");
    listen.put("host1", net != null ? "127.0.0.1:" + freeLocalPort() : topology.node("host1").address() + ":7101");
    for (String h : hosts.subList(1, hosts.size())) {
      listen.put(h, (net != null ? net.thereAddress : topology.node(h).address()) + ":7101");
    }
    enrol(here);
    start("controller", List.of("controller", "--listen", here + ":" + port, "--data",
        dir.resolve("controller").toString(), "--host-timeout", "3s", "--tls", tlsDir("controller").toString()));
    try {
      await("the controller's token file", () -> Files.isRegularFile(token) && Files.size(token) > 0, SETTLE);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; controller log:\n" + log("controller"), e);
    }
    FerryProcess cli = new FerryProcess(dir).withEnv("FERRY_CONTROLLER", controllerUrl)
        .withEnv("FERRY_TOKEN", Files.readString(token).strip()).withEnv("FERRY_CA", caFile().toString());
    ferry = topology == null ? cli : cli.withPrefix(topology.node("controller").inside(List.of()));
    checks = new ClusterChecks(ferry, dir, owned);
    // the token file is written before the API listens: enrolling at once can meet a closed port
    await("the controller answering", () -> ferry.run("host", "list").exit() == 0, SETTLE);
    for (String host : hosts) startAgent(host);
    awaitOnline(hosts);
    Path shared = Files.createDirectories(dir.resolve("pools/shared"));
    for (String host : hosts) {
      ferry.ok("pool", "create", "shared", "--host", host, "--path", shared.toString(), "--shared");
    }
    Path guestDir = Files.createDirectories(shared.resolve("guest"));
    kernel = Files.copy(TestGuest.get().kernel(), guestDir.resolve("vmlinuz"));
    initrd = Files.copy(TestGuest.get().initrd(), guestDir.resolve("initrd.img"));
  }

  /** The cluster in {@code dir}; every process it starts is owned by {@code owned}. */
  static NamespacedCluster start(Path dir, OwnedProcesses owned) throws Exception {
    TwoHostNetwork net = TwoHostNetwork.create();
    try {
      return new NamespacedCluster(dir, owned, net, null, List.of("host1", "host2"), Map.of());
    } catch (Exception | Error e) {
      owned.killAll();
      net.close();
      throw e;
    }
  }

  /** The cluster in {@code dir} with the controller, host1 and host2 each in a namespace of its own. */
  static NamespacedCluster isolated(Path dir, OwnedProcesses owned) throws Exception {
    return isolated(dir, owned, List.of(), Map.of());
  }

  /**
   * The same with more machines on the bridge that run nothing of Ferry ({@code bystanders}, e.g. an
   * intruder), and {@code daemonEnv} in every daemon's environment.
   */
  static NamespacedCluster isolated(Path dir, OwnedProcesses owned, List<String> bystanders,
      Map<String, String> daemonEnv) throws Exception {
    return isolated(dir, owned, List.of("host1", "host2"), bystanders, daemonEnv, t -> { });
  }

  /**
   * The same with agents {@code hosts}, and {@code network} applied to the namespaces before any
   * daemon starts (e.g. a guests' LAN).
   */
  static NamespacedCluster isolated(Path dir, OwnedProcesses owned, List<String> hosts, List<String> bystanders,
      Map<String, String> daemonEnv, java.util.function.Consumer<NetnsTopology> network) throws Exception {
    var names = new ArrayList<>(List.of("controller"));
    names.addAll(hosts);
    names.addAll(bystanders);
    NetnsTopology topology = NetnsTopology.create(names);
    try {
      network.accept(topology);
      return new NamespacedCluster(dir, owned, null, topology, hosts, daemonEnv);
    } catch (Exception | Error e) {
      owned.killAll();
      topology.close();
      throw e;
    }
  }

  /** (Re)starts a host's agent on its address and data directory. */
  void startAgent(String host) throws IOException {
    Path data = Files.createDirectories(dir.resolve("hosts").resolve(host));
    Path credential = credentialFile(host);
    // as on a real host: the admin enrols it, the agent starts with that file and nothing secret on its command line
    ferry.ok("host", "enroll", host, "--credential-file", credential.toString());
    start(host, List.of("agent", "--name", host, "--listen", listen.get(host), "--data", data.toString(),
        "--controller", controllerUrl, "--credential-file", credential.toString(), "--pool-root", dir.toString(), "--tls", tlsDir(host).toString()));
  }

  /** The host's own credential file, written by {@code ferry host enroll}. */
  Path credentialFile(String host) {
    return dir.resolve("hosts").resolve(host).resolve("credential");
  }

  /** The controller's URL as the CLI and agents use it. */
  String controllerUrl() {
    return controllerUrl;
  }

  /** The first admin token's file. */
  Path tokenFile() {
    return token;
  }

  /**
   * The cluster CA and a certificate per daemon for the address it listens on, made the way an
   * operator enrols real hosts: {@code ferry ca init} once, {@code ferry ca issue} per host.
   */
  private void enrol(String controllerAddress) {
    var cli = new FerryProcess(dir);
    cli.ok("ca", "init", dir.resolve("ca").toString());
    cli.ok("ca", "issue", "--ca", dir.resolve("ca").toString(), "--name", "controller", "--san", controllerAddress,
        "--out", tlsDir("controller").toString());
    for (String host : hosts) {
      String address = listen.get(host).substring(0, listen.get(host).lastIndexOf(':'));
      cli.ok("ca", "issue", "--ca", dir.resolve("ca").toString(), "--name", host, "--san", address,
          "--out", tlsDir(host).toString());
    }
  }

  /** A daemon's TLS directory ({@code controller} or a host). */
  Path tlsDir(String name) {
    return (name.equals("controller") ? dir.resolve("controller") : dir.resolve("hosts").resolve(name)).resolve("tls");
  }

  /** The cluster token the controller made. */
  String token() throws IOException {
    return Files.readString(token).strip();
  }

  /** The credential the controller shows agents; agents take no other bearer token. */
  String controllerCredential() throws IOException {
    return Files.readString(dir.resolve("controller").resolve("controller-credential")).strip();
  }

  /** The cluster CA's certificate, which every daemon's certificate chains to. */
  Path caFile() {
    return dir.resolve("ca/ca-cert.pem");
  }

  /** SIGKILL, as a crash or the OOM killer would; the QEMUs it started keep running. */
  void killAgent(String host) throws InterruptedException {
    long pid = pids.get(host);
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
    owned.release(pid);
  }

  void awaitOnline(List<String> hosts) throws Exception {
    await(hosts + " online", () -> hosts.stream().allMatch(h -> hostState(h).equals("online")), SETTLE);
  }

  String hostState(String host) {
    var r = ferry.run("host", "list", "--json");
    if (r.exit() != 0) return "(host list failed: " + r + ")";
    for (JsonNode h : r.json()) {
      if (h.get("name").asText().equals(host)) return h.get("state").asText();
    }
    return "(not registered)";
  }

  /** Owns every QEMU the agents started (by the pid files they wrote), kills all, removes the network. */
  @Override
  public void close() throws IOException {
    if (Files.isDirectory(dir.resolve("hosts"))) {
      try (Stream<Path> files = Files.find(dir.resolve("hosts"), 5, (p, a) -> p.getFileName().toString().equals("qemu.pid"))) {
        files.forEach(p -> {
          try {
            owned.own(Long.parseLong(Files.readString(p).strip()));
          } catch (IOException | NumberFormatException e) {
            // no pid in it: nothing to kill
          }
        });
      }
    }
    owned.killAll();
    if (net != null) net.close();
    if (topology != null) topology.close();
  }

  /** Where a daemon runs: host2 behind the link, or every daemon in its own namespace. */
  private List<String> placed(String name, List<String> cmd) {
    if (topology != null) return topology.node(name).inside(cmd);
    return name.equals("host2") ? net.inside(cmd) : cmd;
  }

  private void start(String name, List<String> args) throws IOException {
    var cmd = new ArrayList<>(List.of("setsid", ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-jar", FerryProcess.jar().toString()));
    cmd.addAll(args);
    Path log = Files.createDirectories(dir.resolve("logs")).resolve(name + ".log");
    var pb = new ProcessBuilder(placed(name, cmd)).redirectInput(new File("/dev/null"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(daemonEnv);
    Process p = pb.start();
    pids.put(name, p.pid());
    owned.own(p.pid());
  }

  /** A daemon's log, for a failure message. */
  String log(String name) {
    try {
      return Files.readString(dir.resolve("logs").resolve(name + ".log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static int freeLocalPort() throws IOException {
    try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  interface Check {
    boolean ok() throws Exception;
  }

  static void await(String what, Check check, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > until) throw new AssertionError("not within " + timeout + ": " + what);
      Thread.sleep(250);
    }
  }
}
