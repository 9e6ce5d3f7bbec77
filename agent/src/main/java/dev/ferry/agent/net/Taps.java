package dev.ferry.agent.net;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.qemu.NicSpec;
import dev.ferry.agent.qemu.QemuUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tap devices of a VM's NICs, made by the agent (which has CAP_NET_ADMIN) so that QEMU, running
 * unprivileged under a seccomp sandbox, only attaches to them: a persistent tap owned by the QEMU
 * user may be opened by that user through {@code /dev/net/tun} without any capability. Each tap is
 * on its network's bridge and up before QEMU starts, so on a live migration's target the guest's
 * port exists before {@code migrate-incoming}.
 *
 * <p>Every step observes first: a tap of this name that is already a tap owned by the QEMU user is
 * reused (an agent restarted between creating it and starting QEMU), anything else of that name
 * is refused rather than taken over.
 */
public final class Taps {

  private static final Logger log = LoggerFactory.getLogger(Taps.class);
  static final Path TUN = Path.of("/dev/net/tun");
  private static final Duration IP_TIMEOUT = Duration.ofSeconds(10);

  private Taps() {}

  /** Creates (or finds) every NIC's tap on its bridge, up; on failure removes those it made. */
  public static void up(String vm, List<NicSpec> nics, QemuUser user) {
    up(vm, nics, user, true);
  }

  /**
   * As {@link #up(String, List, QemuUser)}; with {@code onBridge} false the taps are up but no
   * bridge's ports (a COLO secondary's: its guest hears the network only through the primary's
   * proxy until a takeover puts them on with {@link #attach}). The bridge must exist either way.
   */
  public static void up(String vm, List<NicSpec> nics, QemuUser user, boolean onBridge) {
    if (nics.isEmpty()) return;
    String tun = user.cannotReadWrite(TUN);
    if (tun != null) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " has a nic, but " + tun
          + " (Debian's udev default is mode 0666: chmod 0666 " + TUN + ")");
    }
    for (int i = 0; i < nics.size(); i++) {
      NicSpec nic = nics.get(i);
      try {
        up(nic, user, onBridge);
      } catch (RuntimeException e) {
        down(vm, nics.subList(0, i + 1));
        throw e;
      }
    }
  }

  private static void up(NicSpec nic, QemuUser user, boolean onBridge) {
    if (!Bridges.exists(nic.bridge())) {
      throw new AgentException(Kind.CONFLICT, "bridge " + nic.bridge() + " of nic " + nic.mac() + " does not exist on this host");
    }
    Path sys = Bridges.SYS_NET.resolve(nic.tap());
    if (Files.exists(sys)) {
      String owner = read(sys.resolve("owner"));
      if (!Files.exists(sys.resolve("tun_flags")) || !Integer.toString(user.uid()).equals(owner)) {
        throw new AgentException(Kind.CONFLICT, "network interface " + nic.tap() + " exists and is not a tap of QEMU user "
            + user.name() + " (owner " + owner + "); it is someone else's, not taken over");
      }
    } else {
      ip("tuntap", "add", "dev", nic.tap(), "mode", "tap", "user", Integer.toString(user.uid()));
    }
    noIpv6(nic.tap());
    if (onBridge) {
      ip("link", "set", "dev", nic.tap(), "master", nic.bridge());
    } else {
      ip("link", "set", "dev", nic.tap(), "nomaster");
    }
    ip("link", "set", "dev", nic.tap(), "up");
    log.info("tap {} {} bridge {} for nic {}", nic.tap(), onBridge ? "on" : "up, kept off", nic.bridge(), nic.mac());
  }

  /** Puts the NICs' existing taps on their bridges (a COLO secondary taking over); idempotent. */
  public static void attach(String vm, List<NicSpec> nics) {
    for (NicSpec nic : nics) {
      if (!Files.exists(Bridges.SYS_NET.resolve(nic.tap()).resolve("tun_flags"))) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + ": tap " + nic.tap() + " of nic " + nic.mac()
            + " does not exist; it cannot be put on bridge " + nic.bridge());
      }
      ip("link", "set", "dev", nic.tap(), "master", nic.bridge());
      log.info("vm {}: tap {} put on bridge {}", vm, nic.tap(), nic.bridge());
    }
  }

  /** Removes the NICs' taps, best-effort each: only taps (a tun device), never another interface of that name. */
  public static void down(String vm, List<NicSpec> nics) {
    for (NicSpec nic : nics) {
      if (nic.tap() == null) continue;
      Path sys = Bridges.SYS_NET.resolve(nic.tap());
      if (!Files.exists(sys.resolve("tun_flags"))) continue;
      try {
        ip("link", "del", "dev", nic.tap());
        log.info("vm {}: tap {} removed", vm, nic.tap());
      } catch (AgentException e) {
        log.warn("vm {}: tap {} left behind: {}", vm, nic.tap(), e.getMessage());
      }
    }
  }

  /**
   * A tap is a port of the guest's segment, not an interface of this host: without this the
   * kernel gives it an IPv6 link-local address and the host joins multicast groups on it.
   */
  private static void noIpv6(String tap) {
    try {
      Files.writeString(Path.of("/proc/sys/net/ipv6/conf", tap, "disable_ipv6"), "1");
    } catch (IOException e) {
      // no IPv6 in this kernel: then there is no address either
    }
  }

  private static void ip(String... args) {
    var cmd = new java.util.ArrayList<String>();
    cmd.add("ip");
    cmd.addAll(List.of(args));
    Subprocess.run(cmd, IP_TIMEOUT).requireOk();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      return null;
    }
  }
}
