package dev.ferry.cli.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.Json;
import dev.ferry.cli.CliException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The local cluster's network {@code default}: a Linux bridge without any address in the root
 * namespace (nothing on this machine routes to it), and the cluster's own network namespace
 * attached to it by a veth pair, holding the gateway address and a dnsmasq DHCP server whose
 * leases are in the cluster directory. The root namespace gets an {@code unreachable} route for
 * the subnet, so a client started outside the namespace by mistake fails at once instead of
 * sending anything off the machine.
 *
 * <p>Every name and the subnet come from a digest of the cluster directory, so several clusters
 * (tests run side by side) never share one; names are at most 15 characters, as Linux requires.
 * What was made is recorded in {@code network/default.json} before each side effect is checked,
 * and {@link #remove} undoes only what carries those names, dnsmasq by its recorded pid.
 *
 * @param subnet  {@code 10.A.B.0/24}
 * @param gateway the namespace's address, {@code 10.A.B.1}
 */
public record LocalNetwork(String name, String bridge, String namespace, String vethRoot, String vethNs,
    String subnet, String gateway, String leases, String pidFile, String log) {

  public static final String DEFAULT = "default";
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final ObjectMapper JSON = Json.mapper();

  /** The names and addresses of {@code dir}'s network (nothing is created). */
  static LocalNetwork of(ClusterLayout layout) {
    byte[] d = digest(layout.dir().toString());
    String id = HexFormat.of().formatHex(d).substring(0, 7);
    // 10.64.0.0 - 10.127.255.0: away from the 10.0.x / 10.1.x networks of common container setups
    int a = 64 + (d[4] & 0x3f);
    int b = d[5] & 0xff;
    String prefix = "10." + a + "." + b + ".";
    Path net = layout.dir().resolve("network");
    return new LocalNetwork(DEFAULT, "fyb" + id, "ferry-" + id, "fyr" + id, "fyn" + id, prefix + "0/24", prefix + "1",
        net.resolve("dnsmasq.leases").toString(), net.resolve("dnsmasq.pid").toString(),
        layout.log("dnsmasq").toString());
  }

  /**
   * Network {@code default} of a cluster kept in {@code dir} made now (what is missing of it), for
   * a cluster that runs outside {@code cluster up}: {@code ferry bench live} makes one for its run
   * and takes it down with {@link #remove}. Check {@link #cannotCreate} first.
   */
  public static LocalNetwork create(Path dir) {
    ClusterLayout layout = new ClusterLayout(dir);
    LocalNetwork net = of(layout);
    try {
      net.ensure(layout);
    } catch (RuntimeException e) {
      // half made: nobody else holds these names to remove it later
      net.remove();
      throw e;
    }
    return net;
  }

  /** The network recorded in cluster directory {@code dir} under {@code name}, if {@code cluster up} made it. */
  public static Optional<LocalNetwork> recorded(Path dir, String name) {
    Path f = new ClusterLayout(dir).dir().resolve("network").resolve(name + ".json");
    if (!Files.isRegularFile(f)) return Optional.empty();
    try {
      return Optional.of(JSON.readValue(f.toFile(), LocalNetwork.class));
    } catch (IOException e) {
      throw CliException.local("cannot read " + f + ": " + e.getMessage(), e);
    }
  }

  /** Null when this process can build the network (root, ip and dnsmasq present), else why not. */
  public static String cannotCreate() {
    if (!"root".equals(System.getProperty("user.name"))) return "it needs root (network namespaces, a bridge)";
    for (String tool : List.of("ip", "dnsmasq")) {
      if (which(tool) == null) {
        return tool + " is not installed" + (tool.equals("dnsmasq") ? " (Debian package dnsmasq-base)" : "");
      }
    }
    return null;
  }

  /** Makes whatever of the network is missing; running it again on a complete network changes nothing. */
  void ensure(ClusterLayout layout) {
    write(layout);
    mkdirs(Path.of(leases).getParent());
    if (!exists(bridge)) {
      ip("link", "add", bridge, "type", "bridge");
      // no address at all, not even IPv6 link-local: nothing in the root namespace talks on it
      sysctl("net/ipv6/conf/" + bridge + "/disable_ipv6", "1");
    }
    ip("link", "set", bridge, "up");
    if (!namespaceExists()) ip("netns", "add", namespace);
    if (!exists(vethRoot)) ip("link", "add", vethRoot, "type", "veth", "peer", "name", vethNs, "netns", namespace);
    sysctl("net/ipv6/conf/" + vethRoot + "/disable_ipv6", "1");
    ip("link", "set", vethRoot, "master", bridge, "up");
    ip("-n", namespace, "link", "set", "lo", "up");
    ip("-n", namespace, "link", "set", vethNs, "up");
    if (!run(List.of("ip", "-n", namespace, "-4", "addr", "show", "dev", vethNs)).contains(gateway + "/")) {
      ip("-n", namespace, "addr", "add", gateway + "/24", "dev", vethNs);
    }
    if (!run(List.of("ip", "route", "show", "type", "unreachable")).contains(subnet)) {
      ip("route", "add", "unreachable", subnet);
    }
    if (dnsmasqPid().isEmpty()) startDnsmasq();
  }

  private void startDnsmasq() {
    String prefix = gateway.substring(0, gateway.length() - 1);
    List<String> cmd = List.of("ip", "netns", "exec", namespace, "dnsmasq", "--conf-file=/dev/null",
        "--interface=" + vethNs, "--bind-interfaces", "--except-interface=lo", "--port=0",
        "--dhcp-range=" + prefix + "100," + prefix + "199,255.255.255.0,1h", "--dhcp-authoritative",
        "--dhcp-leasefile=" + leases, "--pid-file=" + pidFile, "--log-facility=" + log, "--log-dhcp");
    // dnsmasq forks into the background: its output goes to the log, never into a pipe it would keep open
    Path logFile = Path.of(log);
    mkdirs(logFile.getParent());
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw CliException.local("dnsmasq did not go to the background within " + TIMEOUT.toSeconds() + "s (log " + log + ")", null);
      }
      if (p.exitValue() != 0) throw CliException.local("dnsmasq failed (exit " + p.exitValue() + "); see " + log, null);
    } catch (IOException e) {
      throw CliException.local("cannot start dnsmasq: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliException.local("interrupted starting dnsmasq", e);
    }
    if (dnsmasqPid().isEmpty()) throw CliException.local("dnsmasq did not start; see " + log, null);
  }

  /** dnsmasq's pid from its pid file, only while that process is a dnsmasq with this pid file. */
  Optional<ProcessHandle> dnsmasqPid() {
    try {
      long pid = Long.parseLong(Files.readString(Path.of(pidFile)).strip());
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .filter(p -> ProcessCheck.cmdline(pid).contains("--pid-file=" + pidFile));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Removes what {@link #ensure} made, each step on its own; returns what could not be removed. */
  public List<String> remove() {
    List<String> left = new ArrayList<>();
    dnsmasqPid().ifPresent(p -> {
      String how = ProcessCheck.stop(p, Duration.ofSeconds(5));
      if (!how.equals("stopped") && !how.startsWith("killed")) left.add("dnsmasq pid " + p.pid() + ": " + how);
    });
    if (namespaceExists()) attempt(left, "namespace " + namespace, "netns", "del", namespace);
    if (exists(vethRoot)) attemptLink(left, "veth " + vethRoot, vethRoot);
    if (exists(bridge)) attemptLink(left, "bridge " + bridge, bridge);
    if (run(List.of("ip", "route", "show", "type", "unreachable")).contains(subnet)) {
      attempt(left, "route unreachable " + subnet, "route", "del", "unreachable", subnet);
    }
    return left;
  }

  private static void attempt(List<String> left, String what, String... args) {
    try {
      ip(args);
    } catch (CliException e) {
      left.add(what + ": " + e.getMessage());
    }
  }

  /**
   * A link that is gone once its removal failed was not left behind: deleting the namespace takes
   * the veth's peer with it, and the kernel removes the root end on its own, at times between the
   * check and {@code ip link del} ("Cannot find device" in a {@code cluster down} that left nothing).
   */
  private static void attemptLink(List<String> left, String what, String link) {
    try {
      ip("link", "del", link);
    } catch (CliException e) {
      if (exists(link)) left.add(what + ": " + e.getMessage());
    }
  }

  private void write(ClusterLayout layout) {
    Path f = layout.dir().resolve("network").resolve(name + ".json");
    mkdirs(f.getParent());
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(f.toFile(), this);
    } catch (IOException e) {
      throw CliException.local("cannot write " + f + ": " + e.getMessage(), e);
    }
  }

  boolean namespaceExists() {
    return Files.exists(Path.of("/run/netns", namespace));
  }

  static boolean exists(String link) {
    return Files.exists(Path.of("/sys/class/net", link));
  }

  private static void sysctl(String key, String value) {
    try {
      Files.writeString(Path.of("/proc/sys", key), value);
    } catch (IOException e) {
      // IPv6 disabled on this kernel: then there is no address to avoid either
    }
  }

  private static void ip(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add("ip");
    cmd.addAll(List.of(args));
    Result r = exec(cmd);
    if (r.exit() != 0) throw CliException.local(String.join(" ", cmd) + " failed (exit " + r.exit() + "): " + r.out(), null);
  }

  private static String run(List<String> cmd) {
    return exec(cmd).out();
  }

  private record Result(int exit, String out) {}

  private static Result exec(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw CliException.local(String.join(" ", cmd) + " did not finish within " + TIMEOUT.toSeconds() + "s", null);
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    } catch (IOException e) {
      throw CliException.local("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliException.local("interrupted running " + String.join(" ", cmd), e);
    }
  }

  private static Path which(String tool) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
      Path p = Path.of(dir, tool);
      if (Files.isExecutable(p)) return p;
    }
    return null;
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw CliException.local("cannot create " + dir + ": " + e.getMessage(), e);
    }
  }

  private static byte[] digest(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
