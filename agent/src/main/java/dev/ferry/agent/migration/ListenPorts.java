package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.qmp.QmpErrorException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ports QEMU's listeners bind on the migration address of this host, all from the agent's
 * {@link PortRange} so that a firewall can be planned: incoming migration streams, NBD servers,
 * {@code migrate-recover}. A port found free by a probe socket can be taken by another process
 * before QEMU binds it, so each port is persisted before QEMU is asked to bind it, and a bind
 * QEMU refuses with "Address already in use" is retried on a newly chosen, newly persisted port.
 */
public final class ListenPorts {

  private static final Logger log = LoggerFactory.getLogger(ListenPorts.class);

  /** binds tried before giving up; each failure means another process won a race for a free port */
  static final int ATTEMPTS = 5;

  private final String address;
  private final PortRange range;

  public ListenPorts(String address, PortRange range) {
    this.address = address;
    this.range = range;
  }

  /**
   * A port of the range free on the migration address now; another process may take it before
   * QEMU binds it. The search starts at a random port, so that two agents sharing an address (a
   * local cluster) rarely race for the same one.
   */
  public int choose() {
    InetAddress bind;
    try {
      bind = InetAddress.getByName(address);
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "migration address " + address + " does not resolve: " + e.getMessage(), e);
    }
    int start = java.util.concurrent.ThreadLocalRandom.current().nextInt(range.size());
    for (int i = 0; i < range.size(); i++) {
      int port = range.first() + (start + i) % range.size();
      try (var s = new ServerSocket(port, 1, bind)) {
        return s.getLocalPort();
      } catch (IOException e) {
        // taken: the next one
      }
    }
    throw new AgentException(Kind.UNAVAILABLE, "no free tcp port in the migration port range " + range + " on " + address
        + " (every port is taken by a migration under way or another process; widen --migration-ports)");
  }

  /**
   * Makes QEMU bind {@code what} on {@code port} (already persisted), and on a port taken by
   * another process chooses another, persists it and binds again.
   *
   * @param persist records a newly chosen port before it is bound
   * @param bind    the QMP command that makes QEMU listen on the port
   * @return the port QEMU listens on
   */
  int listen(String what, int port, IntConsumer persist, IntConsumer bind) {
    for (int attempt = 1; ; attempt++) {
      try {
        bind.accept(port);
        return port;
      } catch (QmpErrorException e) {
        if (!inUse(e)) throw e;
        if (attempt == ATTEMPTS) {
          throw new AgentException(Kind.UNAVAILABLE, what + " found no free port on " + address + " in " + ATTEMPTS
              + " attempts, the last " + port + ": " + e.desc(), e);
        }
        int next = choose();
        log.warn("{}: port {} on {} was taken before qemu bound it, trying {}", what, port, address, next);
        persist.accept(next);
        port = next;
      }
    }
  }

  /** QEMU's refusal of a port another process holds (nbd-server-start, migrate-incoming, migrate-recover in 7.2). */
  static boolean inUse(QmpErrorException e) {
    String d = e.desc();
    return d.contains("Address already in use") || d.contains("Failed to find an available port");
  }
}
