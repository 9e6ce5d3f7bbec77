package dev.ferry.cli.cluster;

import dev.ferry.cli.CliException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for the cluster's daemons, taken <em>below</em> the kernel's
 * ephemeral range ({@code net.ipv4.ip_local_port_range}). A daemon keeps its port across
 * restarts, and while it is down its clients keep dialling it: a port inside the ephemeral range
 * can meanwhile become the local port of one of those attempts, which on loopback even connects
 * to itself (TCP simultaneous open), and the restarted daemon then fails to bind. All sockets of
 * one call stay open until every port is known, so one call never returns the same port twice.
 */
final class Ports {

  static final Path EPHEMERAL = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  /** below this, ports tend to belong to well-known services */
  static final int LOWEST = 10000;
  private static final int ATTEMPTS = 200;

  private Ports() {}

  static List<Integer> free(int count) {
    int below = ephemeralLow(EPHEMERAL);
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < ATTEMPTS * count && ports.size() < count; i++) {
        ServerSocket s = below > LOWEST ? tryBind(ThreadLocalRandom.current().nextInt(LOWEST, below)) : tryBind(0);
        if (s == null) continue;
        held.add(s);
        ports.add(s.getLocalPort());
      }
      if (ports.size() < count) {
        throw CliException.local("cannot find " + count + " free ports on 127.0.0.1 between " + LOWEST + " and " + below
            + " (below the ephemeral range in " + EPHEMERAL + ")", null);
      }
      return List.copyOf(ports);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // the port was only probed; a failed close leaks nothing we need
        }
      }
    }
  }

  /** The first port of the ephemeral range, or 0 (let the kernel choose) when it cannot be read. */
  static int ephemeralLow(Path range) {
    try {
      // one read of a line: Files.readString reads /proc/sys files in pieces and gets "3" of "32768"
      try (var in = Files.newBufferedReader(range)) {
        String line = in.readLine();
        return line == null ? 0 : Integer.parseInt(line.strip().split("\\s+")[0]);
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static ServerSocket tryBind(int port) {
    try {
      return new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      return null;
    }
  }
}
