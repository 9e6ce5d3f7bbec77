package dev.ferry.agent;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The address other hosts use to reach this agent (heartbeat URL, migration stream, NBD). The
 * listen address, unless it is a wildcard, which nobody can call back. For a wildcard it is an
 * address of an interface that is up, never what the host name resolves to: Debian maps the host
 * name to 127.0.1.1 in /etc/hosts, so a peer told that name connects to itself.
 */
final class AdvertisedAddress {

  private static final Logger log = LoggerFactory.getLogger(AdvertisedAddress.class);

  private AdvertisedAddress() {}

  static boolean wildcard(String listenHost) {
    return listenHost.equals("0.0.0.0") || listenHost.equals("::") || listenHost.equals("[::]");
  }

  /** The address, without brackets (as QMP and {@link InetAddress} take it). */
  static String of(String listenHost) {
    if (!wildcard(listenHost)) return unbracketed(listenHost);
    List<InetAddress> found = interfaceAddresses();
    Optional<InetAddress> best = pick(found, listenHost.contains(":"));
    if (best.isEmpty()) {
      log.warn("listening on {} but no interface has an address other hosts can reach ({}); advertising 127.0.0.1,"
          + " so only this host can call back; listen on a specific address instead", listenHost, found);
      return "127.0.0.1";
    }
    return best.get().getHostAddress().replaceFirst("%.*$", "");
  }

  /** For a URL: an IPv6 literal in brackets. */
  static String forUrl(String address) {
    return address.contains(":") ? "[" + address + "]" : address;
  }

  /**
   * Loopback and link-local addresses are out (a peer cannot use them); IPv4 first unless the
   * wildcard was IPv6's, then the lowest address, so the choice is the same on every start.
   */
  static Optional<InetAddress> pick(List<InetAddress> candidates, boolean preferIpv6) {
    Comparator<InetAddress> family = Comparator.comparingInt(a -> (a instanceof Inet6Address) != preferIpv6 ? 1 : 0);
    return candidates.stream()
        .filter(a -> !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress() && !a.isMulticastAddress())
        .filter(a -> a instanceof Inet4Address || a instanceof Inet6Address)
        .min(family.thenComparing(InetAddress::getHostAddress));
  }

  private static List<InetAddress> interfaceAddresses() {
    var out = new ArrayList<InetAddress>();
    try {
      for (NetworkInterface nif : NetworkInterface.networkInterfaces().toList()) {
        if (nif.isUp() && !nif.isLoopback()) out.addAll(nif.inetAddresses().toList());
      }
    } catch (SocketException e) {
      log.warn("cannot list the network interfaces: {}", e.getMessage());
    }
    return out;
  }

  private static String unbracketed(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }
}
