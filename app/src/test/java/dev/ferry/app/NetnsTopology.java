package dev.ferry.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Machines standing in for separate hosts: each node (the controller, every agent) in its own
 * network namespace with its own address, all joined by veth pairs to one bridge that lives in a
 * switch namespace of its own. Nothing of it is in this (root) namespace, which instead gets an
 * {@code unreachable} route for the subnet: a process started here by mistake fails at once
 * instead of sending anything off the machine. Needs root; names derive from this JVM's pid.
 */
final class NetnsTopology implements AutoCloseable {

  /** One machine: its namespace, its address, the switch-side end of its cable. */
  record Node(String name, String namespace, String address, String switchPort) {
    /** {@code cmd} run inside this node's namespace (exec'd: the pid stays the command's). */
    List<String> inside(List<String> cmd) {
      var all = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
      all.addAll(cmd);
      return all;
    }
  }

  final String subnet;
  /** the guests' LAN of {@link #guestLan}, null until made */
  String guestSubnet;
  private final long id;
  private final String switchNs;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  /** each node's switch port on the guests' LAN */
  private final Map<String, String> guestPorts = new LinkedHashMap<>();
  private java.nio.file.Path dnsmasqPidFile;

  private NetnsTopology(long id) {
    this.id = id;
    switchNs = "fsw-" + id;
    subnet = "10.214." + (id % 250 + 1) + ".0/24";
  }

  /** The switch and one node per name, addresses .1, .2, … in the order given. */
  static NetnsTopology create(List<String> names) {
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new AssertionError("this test builds namespaces with `ip netns` and needs root (CI runs as root); running as "
          + System.getProperty("user.name"));
    }
    long id = ProcessHandle.current().pid() % 100_000;
    var t = new NetnsTopology(id);
    t.close(); // a leftover of a killed run with the same pid
    try {
      t.ip("netns", "add", t.switchNs);
      t.ip("-n", t.switchNs, "link", "add", "br0", "type", "bridge");
      t.ip("-n", t.switchNs, "link", "set", "br0", "up");
      String prefix = t.subnet.substring(0, t.subnet.lastIndexOf('.') + 1);
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        var n = new Node(name, "fn-" + id + "-" + name, prefix + (i + 1), "fp" + id + "p" + i);
        t.ip("netns", "add", n.namespace());
        t.ip("-n", t.switchNs, "link", "add", n.switchPort(), "type", "veth", "peer", "name", "eth0", "netns",
            n.namespace());
        t.ip("-n", t.switchNs, "link", "set", n.switchPort(), "master", "br0", "up");
        t.ip("-n", n.namespace(), "addr", "add", n.address() + "/24", "dev", "eth0");
        t.ip("-n", n.namespace(), "link", "set", "eth0", "up");
        t.ip("-n", n.namespace(), "link", "set", "lo", "up");
        t.nodes.put(name, n);
      }
      t.ip("route", "add", "unreachable", t.subnet);
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
    return t;
  }

  Node node(String name) {
    Node n = nodes.get(name);
    if (n == null) throw new AssertionError("no node " + name + " in " + nodes.keySet());
    return n;
  }

  /** Bytes the switch saw entering or leaving {@code name}'s cable. */
  long bytesThrough(String name) {
    long total = 0;
    for (String dir : List.of("rx_bytes", "tx_bytes")) {
      // `ip netns exec` mounts the namespace's own /sys, where the switch port's counters are
      String v = run(List.of("ip", "netns", "exec", switchNs, "cat",
          "/sys/class/net/" + node(name).switchPort() + "/statistics/" + dir), true);
      total += Long.parseLong(v.strip());
    }
    return total;
  }

  /** {@code cmd} run inside the switch's namespace, e.g. a capture on a node's switch port. */
  List<String> onSwitch(List<String> cmd) {
    var all = new ArrayList<>(List.of("ip", "netns", "exec", switchNs));
    all.addAll(cmd);
    return all;
  }

  /**
   * A second LAN for the guests, as on hosts whose VM bridge has an uplink of its own: a second
   * bridge in the switch, and in each of {@code hosts} a bridge named {@code bridge} whose uplink
   * ({@code eth1}) is cabled to it. {@code client} gets an address on it (.1) and runs dnsmasq there
   * (leases from .100, files in {@code dir}), so guests on any host get addresses and the client
   * reaches them only through the switch. The root namespace gets an unreachable route for it too.
   */
  void guestLan(List<String> hosts, String bridge, String client, java.nio.file.Path dir) {
    guestSubnet = "10.215." + (id % 250 + 1) + ".0/24";
    String prefix = guestSubnet.substring(0, guestSubnet.lastIndexOf('.') + 1);
    ip("-n", switchNs, "link", "add", "br1", "type", "bridge");
    ip("-n", switchNs, "link", "set", "br1", "up");
    var all = new ArrayList<>(hosts);
    all.add(client);
    for (int i = 0; i < all.size(); i++) {
      Node n = node(all.get(i));
      String port = "fg" + id + "p" + i;
      ip("-n", switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", n.namespace());
      ip("-n", switchNs, "link", "set", port, "master", "br1", "up");
      guestPorts.put(n.name(), port);
      if (n.name().equals(client)) {
        ip("-n", n.namespace(), "addr", "add", prefix + "1/24", "dev", "eth1");
      } else {
        ip("-n", n.namespace(), "link", "add", bridge, "type", "bridge");
        ip("-n", n.namespace(), "link", "set", "eth1", "master", bridge);
        ip("-n", n.namespace(), "link", "set", bridge, "up");
      }
      ip("-n", n.namespace(), "link", "set", "eth1", "up");
    }
    run(List.of("ip", "route", "del", "unreachable", guestSubnet), false); // a killed run's
    ip("route", "add", "unreachable", guestSubnet);
    dnsmasqPidFile = dir.resolve("dnsmasq.pid");
    run(node(client).inside(List.of("dnsmasq", "--conf-file=/dev/null", "--interface=eth1", "--bind-interfaces",
        "--except-interface=lo", "--port=0", "--dhcp-range=" + prefix + "100," + prefix + "199,255.255.255.0,1h",
        "--dhcp-authoritative", "--dhcp-leasefile=" + dir.resolve("dnsmasq.leases"), "--pid-file=" + dnsmasqPidFile,
        "--log-facility=" + dir.resolve("dnsmasq.log"))), true);
  }

  /** Unplugs {@code name}'s cables at the switch (both, with a guests' LAN): packets vanish, nothing is reset. */
  void cut(String name) {
    ip("-n", switchNs, "link", "set", node(name).switchPort(), "down");
    if (guestPorts.containsKey(name)) ip("-n", switchNs, "link", "set", guestPorts.get(name), "down");
  }

  void restore(String name) {
    ip("-n", switchNs, "link", "set", node(name).switchPort(), "up");
    if (guestPorts.containsKey(name)) ip("-n", switchNs, "link", "set", guestPorts.get(name), "up");
  }

  /** Removes every namespace (the veths and bridge go with them) and the unreachable route. */
  @Override
  public void close() {
    if (dnsmasqPidFile != null) {
      try {
        ProcessHandle.of(Long.parseLong(java.nio.file.Files.readString(dnsmasqPidFile).strip()))
            .ifPresent(ProcessHandle::destroy);
      } catch (IOException | NumberFormatException e) {
        // no pid written: dnsmasq never started
      }
    }
    if (guestSubnet != null) run(List.of("ip", "route", "del", "unreachable", guestSubnet), false);
    for (Node n : nodes.values()) run(List.of("ip", "netns", "del", n.namespace()), false);
    run(List.of("ip", "netns", "del", switchNs), false);
    run(List.of("ip", "route", "del", "unreachable", subnet), false);
  }

  /** Whether a namespace this topology would make exists (for a leak check). */
  boolean anyLeft() {
    String list = run(List.of("ip", "netns", "list"), true);
    return list.contains(switchNs) || nodes.values().stream().anyMatch(n -> list.contains(n.namespace()));
  }

  private void ip(String... args) {
    var cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    run(cmd, true);
  }

  private static String run(List<String> cmd, boolean mustSucceed) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " timed out");
      }
      if (mustSucceed && p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + out);
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError("cannot run " + cmd + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
