package dev.ferry.app;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A second "host" behind a real link: a network namespace joined to this one by a veth pair
 * ({@code 10.213.N.1} here, {@code 10.213.N.2} there). Processes started with {@link #inside}
 * (an agent, and the QEMUs it starts) see only that link, so setting it down cuts every
 * connection to them the way a pulled cable does: packets vanish, nothing is reset.
 * Needs root (the CI runs as root); names derive from this JVM's pid so parallel runs do not meet.
 */
final class TwoHostNetwork implements AutoCloseable {

  final String namespace;
  final String hostSide;
  final String nsSide;
  final String hereAddress;
  final String thereAddress;

  private TwoHostNetwork(long id) {
    namespace = "ferry-it-" + id;
    hostSide = "fit" + id + "h";
    nsSide = "fit" + id + "n";
    int octet = (int) (id % 250) + 1;
    hereAddress = "10.213." + octet + ".1";
    thereAddress = "10.213." + octet + ".2";
  }

  /** Creates the namespace and the link; fails with what to do when this user may not. */
  static TwoHostNetwork create() {
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new AssertionError("this test builds a two-host network with `ip netns` and needs root (CI runs as root); "
          + "running as " + System.getProperty("user.name"));
    }
    var net = new TwoHostNetwork(ProcessHandle.current().pid() % 100_000);
    net.quietly("ip", "netns", "del", net.namespace); // a leftover of a killed run with the same pid
    net.ip("netns", "add", net.namespace);
    try {
      net.ip("link", "add", net.hostSide, "type", "veth", "peer", "name", net.nsSide);
      net.ip("link", "set", net.nsSide, "netns", net.namespace);
      net.ip("addr", "add", net.hereAddress + "/30", "dev", net.hostSide);
      net.ip("link", "set", net.hostSide, "up");
      net.ip("-n", net.namespace, "addr", "add", net.thereAddress + "/30", "dev", net.nsSide);
      net.ip("-n", net.namespace, "link", "set", net.nsSide, "up");
      net.ip("-n", net.namespace, "link", "set", "lo", "up");
    } catch (RuntimeException | Error e) {
      net.close();
      throw e;
    }
    return net;
  }

  /** {@code cmd} run inside the namespace ({@code ip netns exec} execs, so the pid stays the command's). */
  List<String> inside(List<String> cmd) {
    var all = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    all.addAll(cmd);
    return all;
  }

  /** Pulls the cable: the far end's interface goes down, packets in flight are lost, no connection is reset. */
  void cut() {
    ip("-n", namespace, "link", "set", nsSide, "down");
  }

  void restore() {
    ip("-n", namespace, "link", "set", nsSide, "up");
  }

  /** A port free on this side's address. */
  int freePortHere() {
    try (var s = new ServerSocket(0, 1, InetAddress.getByName(hereAddress))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new AssertionError("no free port on " + hereAddress, e);
    }
  }

  /** Removes the namespace; the veth pair goes with it once no process is left inside. */
  @Override
  public void close() {
    quietly("ip", "netns", "del", namespace);
    quietly("ip", "link", "del", hostSide);
  }

  private void ip(String... args) {
    var cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    String out = run(cmd);
    if (out != null) throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
  }

  private void quietly(String... cmd) {
    run(List.of(cmd));
  }

  /** Null on success, else what the command printed. */
  private static String run(List<String> cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return "timed out";
      }
      return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + out;
    } catch (IOException e) {
      return e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }
}
