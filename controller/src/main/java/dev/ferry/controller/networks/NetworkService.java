package dev.ferry.controller.networks;

import dev.ferry.api.Names;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.NetworkView;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NicRow;
import dev.ferry.controller.store.NetworkStore.NetworkRow;
import dev.ferry.controller.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Networks: a name for a Linux bridge that exists on every host, like a shared pool names one
 * directory. The controller creates nothing on the hosts: the bridge is the operator's (or
 * {@code ferry cluster up}'s); which hosts have it is what their heartbeats report, and a VM on the
 * network migrates only to those. Creating the same name with the same bridge again is a no-op.
 */
public final class NetworkService {

  private static final Logger LOG = LoggerFactory.getLogger(NetworkService.class);
  /** a Linux interface name: at most 15 characters, no '/', ':' or white space */
  static final Pattern BRIDGE = Pattern.compile("[A-Za-z0-9_.-]{1,15}");
  static final String BRIDGE_RULE = "the name of a Linux bridge: 1-15 letters, digits, '_', '.' or '-'";

  private final Store store;
  private final HostRegistry hosts;
  private final EventBus events;

  public NetworkService(Store store, HostRegistry hosts, EventBus events) {
    this.store = store;
    this.hosts = hosts;
    this.events = events;
  }

  /** What {@link #create} did: the network, and whether it is new. */
  public record Created(NetworkView network, boolean changed) {}

  public List<NetworkView> list() {
    List<HostRow> online = hosts.online();
    return store.networks().all().stream().map(n -> view(n, online)).toList();
  }

  public NetworkView show(String name) {
    if (!Names.valid(name)) throw ControllerException.invalid("name", name, Names.RULE);
    return view(require("name", name), hosts.online());
  }

  /** The network {@code name}, or 404 naming {@code field} and the networks there are. */
  public NetworkRow require(String field, String name) {
    return store.networks().find(name).orElseThrow(() -> {
      String known = String.join(", ", store.networks().all().stream().map(NetworkRow::name).toList());
      return ControllerException.notFound(field, name, "network '" + name + "' does not exist (networks: "
          + (known.isEmpty() ? "none" : known) + "); create it with ferry network create", known);
    });
  }

  public synchronized Created create(NetworkCreateRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a network: name and bridge");
    if (!Names.valid(r.name())) throw ControllerException.invalid("name", r.name(), Names.RULE);
    if (r.bridge() == null || !BRIDGE.matcher(r.bridge()).matches()) {
      throw ControllerException.invalid("bridge", r.bridge(), BRIDGE_RULE);
    }
    var existing = store.networks().find(r.name());
    if (existing.isPresent()) {
      if (!existing.get().bridge().equals(r.bridge())) {
        throw ControllerException.conflict("bridge", r.bridge(), "network '" + r.name() + "' already exists on bridge '"
            + existing.get().bridge() + "', not '" + r.bridge() + "'");
      }
      return new Created(view(existing.get(), hosts.online()), false);
    }
    NetworkRow row = new NetworkRow(r.name(), r.bridge());
    store.networks().insert(row);
    NetworkView view = view(row, hosts.online());
    LOG.info("network '{}' created on bridge '{}' (hosts with the bridge: {})", r.name(), r.bridge(), view.hosts());
    events.publish("network.created", r.name(), view);
    return new Created(view, true);
  }

  /** The NICs of stored VM {@code vm} as its agent is given them: each with its network's bridge. */
  public static List<AgentNic> agentNics(Store store, String vm) {
    List<AgentNic> out = new ArrayList<>();
    for (NicRow r : store.networks().nics(vm)) {
      String bridge = store.networks().find(r.network()).map(NetworkRow::bridge).orElse(null);
      out.add(new AgentNic(r.network(), bridge, r.mac(), null));
    }
    return out;
  }

  private NetworkView view(NetworkRow n, List<HostRow> online) {
    return new NetworkView(n.name(), n.bridge(), online.stream().map(HostRow::name)
        .filter(h -> hosts.hasBridge(h, n.bridge())).toList());
  }
}
