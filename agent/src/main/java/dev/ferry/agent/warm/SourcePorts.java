package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.migration.PortRange;
import dev.ferry.qmp.QmpErrorException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntConsumer;

/**
 * The port of a warm source's NBD server, from the migration port range. A port found free can
 * be taken by another process before QEMU binds it: each port is persisted before the bind, and a
 * bind QEMU refuses as in use is tried again on a new, newly persisted port.
 */
final class SourcePorts {

  private static final int ATTEMPTS = 5;

  private final String address;
  private final PortRange range;

  SourcePorts(String address, PortRange range) {
    this.address = address;
    this.range = range;
  }

  int choose() {
    InetAddress bind;
    try {
      bind = InetAddress.getByName(address);
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "migration address " + address + " does not resolve", e);
    }
    int start = ThreadLocalRandom.current().nextInt(range.size());
    for (int i = 0; i < range.size(); i++) {
      int port = range.first() + (start + i) % range.size();
      try (var s = new ServerSocket(port, 1, bind)) {
        return s.getLocalPort();
      } catch (IOException e) {
        // taken: the next one
      }
    }
    throw new AgentException(Kind.UNAVAILABLE, "no free tcp port in the migration port range " + range);
  }

  /** Binds on {@code port} (persisted already); a port in use is replaced, persisted, bound again. */
  int listen(String what, int port, IntConsumer persist, IntConsumer bind) {
    for (int attempt = 1; ; attempt++) {
      try {
        bind.accept(port);
        return port;
      } catch (QmpErrorException e) {
        boolean inUse = e.desc().contains("Address already in use") || e.desc().contains("Failed to find an available");
        if (!inUse || attempt == ATTEMPTS) throw e;
        port = choose();
        persist.accept(port);
      }
    }
  }
}
