package dev.ferry.cli.cluster;

import dev.ferry.cli.CliException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * Free TCP ports on 127.0.0.1, asked of the kernel (bind to port 0). All sockets of one call stay
 * open until every port is known, so one call never returns the same port twice.
 */
final class Ports {

  private Ports() {}

  static List<Integer> free(int count) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      List<Integer> ports = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        held.add(s);
        ports.add(s.getLocalPort());
      }
      return List.copyOf(ports);
    } catch (IOException e) {
      throw CliException.local("cannot find " + count + " free ports on 127.0.0.1: " + e.getMessage(), e);
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
}
