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
 * A controller and two agents where host2 lives behind a real link ({@link TwoHostNetwork}):
 * cutting the link stalls the migration stream and the controller's calls to host2 the way a
 * pulled cable does. Each daemon is started by this class and can be SIGKILLed and started again
 * with the same address and data, as a crashed agent restarted by systemd would be.
 */
final class NamespacedCluster implements AutoCloseable {

  static final Duration SETTLE = Duration.ofSeconds(60);

  final TwoHostNetwork net;
  final FerryProcess ferry;
  final ClusterChecks checks;
  final Path kernel;
  final Path initrd;
  private final Path dir;
  private final OwnedProcesses owned;
  private final String controllerUrl;
  private final Path token;
  private final Map<String, String> listen = new HashMap<>();
  private final Map<String, Long> pids = new HashMap<>();

  private NamespacedCluster(Path dir, OwnedProcesses owned, TwoHostNetwork net) throws Exception {
    this.dir = dir;
    this.owned = owned;
    this.net = net;
    int port = net.freePortHere();
    controllerUrl = "http://" + net.hereAddress + ":" + port;
    token = dir.resolve("controller/token");
    start("controller", List.of("controller", "--listen", net.hereAddress + ":" + port, "--data",
        dir.resolve("controller").toString(), "--host-timeout", "3s"), false);
    try {
      await("the controller's token file", () -> Files.isRegularFile(token) && Files.size(token) > 0, SETTLE);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; controller log:\n" + log("controller"), e);
    }
    listen.put("host1", "127.0.0.1:" + freeLocalPort());
    listen.put("host2", net.thereAddress + ":7101");
    for (String host : List.of("host1", "host2")) startAgent(host);
    ferry = new FerryProcess(dir).withEnv("FERRY_CONTROLLER", controllerUrl)
        .withEnv("FERRY_TOKEN", Files.readString(token).strip());
    checks = new ClusterChecks(ferry, dir, owned);
    awaitOnline(List.of("host1", "host2"));
    Path shared = Files.createDirectories(dir.resolve("pools/shared"));
    for (String host : List.of("host1", "host2")) {
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
      return new NamespacedCluster(dir, owned, net);
    } catch (Exception | Error e) {
      owned.killAll();
      net.close();
      throw e;
    }
  }

  /** (Re)starts a host's agent on its address and data directory. */
  void startAgent(String host) throws IOException {
    start(host, List.of("agent", "--name", host, "--listen", listen.get(host), "--data",
        dir.resolve("hosts").resolve(host).toString(), "--controller", controllerUrl, "--token-file", token.toString()),
        host.equals("host2"));
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
    net.close();
  }

  private void start(String name, List<String> args, boolean far) throws IOException {
    var cmd = new ArrayList<>(List.of("setsid", ProcessHandle.current().info().command().orElse("java"),
        "--enable-native-access=ALL-UNNAMED", "-jar", FerryProcess.jar().toString()));
    cmd.addAll(args);
    Path log = Files.createDirectories(dir.resolve("logs")).resolve(name + ".log");
    Process p = new ProcessBuilder(far ? net.inside(cmd) : cmd).redirectInput(new File("/dev/null"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
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
