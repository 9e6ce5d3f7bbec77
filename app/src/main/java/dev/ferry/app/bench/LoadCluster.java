package dev.ferry.app.bench;

import dev.ferry.api.HostState;
import dev.ferry.api.Json;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmState;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.ferry.api.tls.TlsContexts;
import dev.ferry.api.tls.TlsDir;
import dev.ferry.cli.ca.ClusterCa;
import java.net.http.HttpClient;
import javax.net.ssl.SSLContext;

/**
 * The scene of {@code ferry bench load}: a store seeded with simulated hosts and their VMs (in
 * one transaction, before the controller starts: creating 10,000 VMs through the API would take
 * longer than the benchmark), a fake agent that every simulated host names as its URL, and the
 * controller as a real child process of this JVM on a loopback port.
 *
 * <p>The fake agent holds every request it gets (up to {@link #HOLD}) before answering 503: the
 * controller only calls agents for the migration burst, and a held call keeps an admitted
 * migration running, so the per-host limit is measured against migrations that stay in flight.
 */
final class LoadCluster implements AutoCloseable {

  static final Duration HOLD = Duration.ofSeconds(30);
  static final String TARGET = "target";
  static final long VM_MEMORY = 256L << 20;

  final Path data;
  final String agentUrl;
  final AtomicLong agentCalls = new AtomicLong();
  private final HttpServer agent;
  private final ExecutorService agentThreads = Executors.newVirtualThreadPerTaskExecutor();
  /** the controller's certificate directory ({@code --tls}), or null for plain HTTP */
  private final Path controllerTls;
  /** what the benchmark's clients trust: the bench's CA; null for plain HTTP */
  private final SSLContext clientTls;
  private Process controller;
  private Path controllerLog;
  private int port;
  private String token;

  LoadCluster(Path work, boolean tls) throws IOException {
    this.data = Files.createDirectories(work.resolve("controller"));
    if (tls) {
      // a cluster CA of its own, as ferry cluster up makes: the controller and the fake agent speak HTTPS only
      ClusterCa ca = ClusterCa.init(work.resolve("ca"), "ferry-bench-load");
      controllerTls = ca.issue("controller", List.of("127.0.0.1"), work.resolve("tls-controller")).dir().dir();
      TlsDir agentTls = ca.issue("agent", List.of("127.0.0.1"), work.resolve("tls-agent")).dir();
      clientTls = TlsContexts.trusting(ca.certFile());
      HttpsServer https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      https.setHttpsConfigurator(new HttpsConfigurator(TlsContexts.server(agentTls)));
      agent = https;
    } else {
      controllerTls = null;
      clientTls = null;
      agent = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    }
    agent.setExecutor(agentThreads);
    agent.createContext("/", ex -> {
      agentCalls.incrementAndGet();
      try {
        Thread.sleep(HOLD);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      byte[] body = "{\"status\":503,\"title\":\"agent unreachable\",\"detail\":\"simulated agent\"}"
          .getBytes(StandardCharsets.UTF_8);
      try (ex) {
        ex.getResponseHeaders().set("Content-Type", "application/problem+json");
        ex.sendResponseHeaders(503, body.length);
        ex.getResponseBody().write(body);
      } catch (IOException e) {
        // the controller gave up on the call first
      }
    });
    agent.start();
    agentUrl = (tls ? "https" : "http") + "://127.0.0.1:" + agent.getAddress().getPort();
  }

  static String host(int i) {
    return String.format("sim-%02d", i);
  }

  static String vm(int host, int i) {
    return String.format("sim-%02d-vm-%03d", host, i);
  }

  /** Hosts sim-01 … with {@code vmsPerHost} running VMs each, and the migration target with 2. */
  void seed(int hosts, int vmsPerHost) {
    Instant now = Instant.now();
    try (Store store = Store.open(data, null, null, null)) {
      List<VmRow> vms = new ArrayList<>();
      for (int h = 1; h <= hosts; h++) {
        store.hosts().upsert(hostRow(host(h), now));
        for (int i = 0; i < vmsPerHost; i++) vms.add(vmRow(vm(h, i), host(h), i));
      }
      store.hosts().upsert(hostRow(TARGET, now));
      vms.add(vmRow(TARGET + "-vm-0", TARGET, 0));
      vms.add(vmRow(TARGET + "-vm-1", TARGET, 1));
      store.vms().insertAll(vms);
    }
  }

  private HostRow hostRow(String name, Instant now) {
    return new HostRow(name, agentUrl, HostState.ONLINE, now, 64, 4L << 40, "8.2.2", "kvm");
  }

  private static VmRow vmRow(String name, String host, int i) {
    String spec = Json.mapper().valueToTree(new VmCreateRequest(name, host, VM_MEMORY, 1, "/pools/sim/vmlinuz", null,
        null, null, List.of(), true)).toString();
    return new VmRow(name, host, spec, VmState.RUNNING, 1, VM_MEMORY, VM_MEMORY, null, "pc-q35-8.2", "qemu64", "kvm",
        10_000L + i);
  }

  /** Starts {@code ferry controller} as a child process with the same classpath; returns once it answers. */
  void startController(Duration hostTimeout, long eventMaxCount, List<String> extra) throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
        "-Xmx2g", "-cp", System.getProperty("java.class.path"), "dev.ferry.app.Main", "controller",
        "--listen", "127.0.0.1:" + port, "--data", data.toString(), "--host-timeout", hostTimeout.toMillis() + "ms",
        "--event-max-count", String.valueOf(eventMaxCount)));
    if (controllerTls != null) cmd.addAll(List.of("--tls", controllerTls.toString()));
    cmd.addAll(extra);
    controllerLog = data.resolveSibling("controller.log");
    controller = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(controllerLog.toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      if (!controller.isAlive()) {
        throw new IllegalStateException("the controller exited with " + controller.exitValue() + ": " + tail());
      }
      Path tokenFile = data.resolve("token");
      if (Files.exists(tokenFile)) {
        token = Files.readString(tokenFile).strip();
        try (var probe = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
          return;
        } catch (IOException notYet) {
          // still starting
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the controller did not answer within 60 s: " + tail());
  }

  String url() {
    return (controllerTls == null ? "http" : "https") + "://127.0.0.1:" + port;
  }

  /** An HTTP client for the controller: trusting the bench's CA when it runs with TLS. */
  HttpClient client() {
    // the first TLS handshakes of a cold controller on a busy machine take seconds
    HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(30));
    if (clientTls != null) b.sslContext(clientTls);
    return b.build();
  }

  String token() {
    return token;
  }

  long pid() {
    return controller.pid();
  }

  long controllerLogBytes() {
    return controllerLog.toFile().length();
  }

  /** ferry.db with its WAL and shared-memory files. */
  long storeBytes() {
    long sum = 0;
    for (String f : List.of("ferry.db", "ferry.db-wal", "ferry.db-shm")) sum += data.resolve(f).toFile().length();
    return sum;
  }

  /** Stops the controller (SIGTERM, then SIGKILL after 15 s) and returns its exit code. */
  int stopController() throws InterruptedException {
    if (controller == null || !controller.isAlive()) return controller == null ? -1 : controller.exitValue();
    controller.destroy();
    if (!controller.waitFor(15, java.util.concurrent.TimeUnit.SECONDS)) {
      controller.destroyForcibly();
      controller.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    return controller.exitValue();
  }

  String tail() {
    try {
      List<String> lines = Files.readAllLines(controllerLog);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no controller log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() throws Exception {
    try {
      stopController();
    } finally {
      agent.stop(0);
      agentThreads.shutdownNow();
    }
  }
}
