package dev.ferry.cli.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.HostState;
import dev.ferry.api.HostView;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NetworkView;
import dev.ferry.cli.Cli;
import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.Converters;
import dev.ferry.cli.client.ControllerClient;
import dev.ferry.cli.host.HostEnroll;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ferry cluster up [--hosts N] [--dir DIR]}: starts what is not running, leaves the rest
 * alone. Ports are recorded in {@code cluster.json} before anything starts and reused by every
 * later {@code up}; each pid is recorded as soon as its process exists, so a failed {@code up}
 * can be finished by the next one or undone by {@code down}. The cluster CA and a certificate per
 * component are made before anything starts ({@link ClusterCertificates}); every API is https.
 * The controller starts first: it creates the first admin token (the file the CLI uses), with
 * which each agent is enrolled (its own credential, {@code hosts/NAME/credential}, 0600) just
 * before it starts.
 */
@Command(name = "up", description = "start (or complete) a local cluster")
final class ClusterUp extends LocalClusterCommand {

  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  @Option(names = "--hosts", paramLabel = "N", defaultValue = "2", description = "number of agents (default ${DEFAULT-VALUE})")
  int hosts;

  @Option(names = "--host-timeout", paramLabel = "DURATION", converter = Converters.DurationText.class,
      description = "how long the controller waits for a host's heartbeat before marking it unreachable (controller default: 10s); applies when the controller is started")
  String hostTimeout;

  @Option(names = "--max-migrations-per-host", paramLabel = "N", converter = Converters.MigrationsPerHost.class,
      description = "how many migrations a host may take part in at once before the controller refuses another live"
          + " migration touching it (1-64, controller default: 2); applies when the controller is started")
  Integer maxMigrationsPerHost;

  @Option(names = "--migration-ports", paramLabel = "FIRST-LAST",
      description = "ports the agents' QEMUs listen on for migration and NBD streams (agent default: 49152-49215);"
          + " every agent of the local cluster shares the range; applies when an agent is started")
  String migrationPorts;

  ClusterUp(CliContext ctx) {
    super(ctx);
  }

  @Override
  public Integer call() {
    if (hosts < 1 || hosts > 64) throw CliException.usage("hosts '" + hosts + "' is not valid: 1 to 64");
    if (migrationPorts != null && !migrationPorts.matches("\\d{4,5}-\\d{4,5}")) {
      throw CliException.usage("--migration-ports '" + migrationPorts + "' is not valid: FIRST-LAST, e.g. 49152-49215");
    }
    ClusterLayout layout = layout();
    Launcher launcher = Launcher.of(ctx);
    PrintWriter out = out();

    ClusterFile file = plan(layout, ClusterFile.read(layout.dir()).orElse(null), hosts);
    file.write(layout.dir());
    new ClusterCertificates(layout).ensure(hosts);

    // a restarted agent's host (or every host, after a controller restart) can still look online
    // from before: only a heartbeat sent after the start proves the new process is serving
    Map<String, Instant> startedAt = new HashMap<>();
    List<String> lines = new ArrayList<>();
    ClusterFile.Component c = file.controller();
    if (ProcessCheck.alive(c.pid(), c.data())) {
      lines.add(row("controller", c, "running"));
    } else {
      Instant now = Instant.now();
      for (int i = 1; i <= hosts; i++) startedAt.put(ClusterLayout.hostName(i), now);
      // the network is made once the controller answers (it is registered there); where its leases go is known now
      LocalNetwork net = LocalNetwork.cannotCreate() == null ? LocalNetwork.of(layout) : null;
      long pid = Launcher.start(launcher.controller(layout, c.port(), hostTimeout, maxMigrationsPerHost, net),
          layout.log(c.name()));
      file = file.withController(c.withPid(pid));
      file.write(layout.dir());
      lines.add(row("controller", file.controller(), "started"));
    }
    ClusterFile started = file;
    await("the controller at " + file.controllerUrl() + " (log " + layout.log("controller") + ")", START_TIMEOUT,
        () -> controllerAnswers(started, layout));

    // before the agents: their first heartbeat then already reports the bridge
    lines.add(network(layout, client(file)));

    for (int i = 1; i <= hosts; i++) {
      ClusterFile.Component a = file.agent(ClusterLayout.hostName(i)).orElseThrow();
      if (ProcessCheck.alive(a.pid(), a.data())) {
        lines.add(row(a.name(), a, "running"));
        continue;
      }
      startedAt.put(a.name(), Instant.now());
      // a fresh credential for each start: one written by an earlier controller (data lost) would be refused
      enroll(client(file), layout, a.name());
      long pid = Launcher.start(launcher.agent(layout, a.name(), a.port(), file.controllerUrl(), migrationPorts), layout.log(a.name()));
      file = file.withAgent(a.withPid(pid));
      file.write(layout.dir());
      lines.add(row(a.name(), file.agent(a.name()).orElseThrow(), "started"));
    }

    ControllerClient api = client(file);
    ClusterFile all = file;
    await("hosts host1..host" + hosts + " to come online (logs in " + layout.dir().resolve("logs") + ")",
        START_TIMEOUT, () -> allOnline(api, all, hosts, layout, startedAt));
    new PoolSetup(api, layout, out).ensure(hosts);

    out.println("cluster in " + layout.dir());
    out.println(String.format("%-12s%s", "token file", file.tokenFile()));
    lines.forEach(out::println);
    out.println("use it with: ferry host list   (or FERRY_CLUSTER_DIR=" + layout.dir() + " ferry ...)");
    out.flush();
    return Cli.OK;
  }

  /**
   * The cluster file to work with: the recorded one with any missing agent added, or a new one.
   * New ports avoid every recorded one, even of components that are down, so they stay theirs.
   */
  static ClusterFile plan(ClusterLayout layout, ClusterFile recorded, int hosts) {
    Set<Integer> taken = new HashSet<>();
    if (recorded != null) {
      taken.add(recorded.controller().port());
      recorded.agents().forEach(a -> taken.add(a.port()));
    }
    int needed = (recorded == null ? 1 : 0);
    for (int i = 1; i <= hosts; i++) {
      if (recorded == null || recorded.agent(ClusterLayout.hostName(i)).isEmpty()) needed++;
    }
    List<Integer> fresh = new ArrayList<>();
    while (fresh.size() < needed) {
      for (int p : Ports.free(needed - fresh.size())) {
        if (taken.add(p)) fresh.add(p);
      }
    }
    var ports = fresh.iterator();
    ClusterFile file = recorded;
    if (file == null) {
      int port = ports.next();
      file = new ClusterFile("https://127.0.0.1:" + port, layout.tokenFile().toString(),
          new ClusterFile.Component("controller", port, null, layout.controllerData().toString(),
              layout.log("controller").toString()), List.of(), ClusterCertificates.caFile(layout).toString());
    } else if (file.caFile() == null) {
      // a cluster from before TLS: from now on it is served over https
      file = file.withTls(ClusterCertificates.caFile(layout).toString());
    }
    for (int i = 1; i <= hosts; i++) {
      String name = ClusterLayout.hostName(i);
      if (file.agent(name).isPresent()) continue;
      file = file.withAgent(new ClusterFile.Component(name, ports.next(), null, layout.hostData(name).toString(),
          layout.log(name).toString()));
    }
    return file;
  }

  /**
   * Network {@code default} ({@link LocalNetwork}) made and registered with the controller; without
   * root or the tools the cluster works without it, and the line says why.
   */
  private static String network(ClusterLayout layout, ControllerClient api) {
    String why = LocalNetwork.cannotCreate();
    if (why != null) return String.format("%-12s%s", "network", "none: no network '" + LocalNetwork.DEFAULT + "' ("
        + why + "); VMs get no NIC");
    LocalNetwork net = LocalNetwork.of(layout);
    net.ensure(layout);
    // 201 when new, 200 when it already names this bridge; a different bridge is a 409 worth stopping for
    api.post(ApiPaths.NETWORKS, new NetworkCreateRequest(net.name(), net.bridge()), NetworkView.class);
    return String.format("%-12s%s", "network", net.name() + ": bridge " + net.bridge() + ", subnet " + net.subnet()
        + ", gateway and DHCP in namespace " + net.namespace() + " (ferry network exec " + net.name() + " -- CMD)");
  }

  private static void enroll(ControllerClient api, ClusterLayout layout, String host) {
    try {
      java.nio.file.Files.createDirectories(layout.hostData(host));
    } catch (java.io.IOException e) {
      throw CliException.local("cannot create " + layout.hostData(host) + ": " + e.getMessage(), e);
    }
    HostEnroll.enroll(api, host, layout.credentialFile(host));
  }

  private static boolean controllerAnswers(ClusterFile file, ClusterLayout layout) {
    ClusterFile.Component c = file.controller();
    if (!ProcessCheck.starting(c.pid(), c.data())) {
      throw CliException.local("the controller exited during start (" + ProcessCheck.seen(c.pid()) + ")"
          + lastWords(layout.log("controller")) + "; see " + layout.log("controller"), null);
    }
    ControllerClient api = client(file);
    if (api == null) return false;
    try {
      api.get(ApiPaths.HOSTS, new TypeReference<List<HostView>>() {});
      return true;
    } catch (CliException e) {
      if (e.kind() == CliException.Kind.UNREACHABLE) return false;
      throw e;
    }
  }

  /**
   * What a daemon said last before it exited, so that the reason reaches the user (and a CI log)
   * without opening its log: its one-line "ferry: ..." error when it wrote one, else its last line.
   */
  static String lastWords(java.nio.file.Path log) {
    List<String> lines;
    try {
      lines = java.nio.file.Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return "";
    }
    if (lines.isEmpty()) return "";
    String said = lines.reversed().stream().filter(l -> l.startsWith("ferry: ")).findFirst()
        .orElse(lines.getLast());
    return ": " + (said.length() > 500 ? said.substring(0, 500) + "..." : said);
  }

  private static boolean allOnline(ControllerClient api, ClusterFile file, int hosts, ClusterLayout layout,
      Map<String, Instant> startedAt) {
    for (int i = 1; i <= hosts; i++) {
      ClusterFile.Component a = file.agent(ClusterLayout.hostName(i)).orElseThrow();
      if (!ProcessCheck.starting(a.pid(), a.data())) {
        throw CliException.local("agent " + a.name() + " exited during start (" + ProcessCheck.seen(a.pid()) + ")"
            + lastWords(layout.log(a.name())) + "; see " + layout.log(a.name()), null);
      }
    }
    Map<String, HostView> byName;
    try {
      byName = api.get(ApiPaths.HOSTS, new TypeReference<List<HostView>>() {}).stream()
          .collect(Collectors.toMap(HostView::name, Function.identity(), (x, y) -> x));
    } catch (CliException e) {
      if (e.kind() == CliException.Kind.UNREACHABLE) return false;
      throw e;
    }
    for (int i = 1; i <= hosts; i++) {
      HostView h = byName.get(ClusterLayout.hostName(i));
      if (h == null || h.state() != HostState.ONLINE) return false;
      Instant started = startedAt.get(h.name());
      if (started != null && (h.lastHeartbeat() == null || h.lastHeartbeat().isBefore(started))) return false;
    }
    return true;
  }

  private static String row(String label, ClusterFile.Component c, String how) {
    return String.format("%-12s%-28s(pid %d, %s)", label, c.url(), c.pid(), how);
  }
}
