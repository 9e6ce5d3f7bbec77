package dev.ferry.controller.vms;

import dev.ferry.api.Macs;
import dev.ferry.api.NicRequest;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NetworkStore.NetworkRow;
import dev.ferry.controller.store.NicRow;
import dev.ferry.controller.store.Store;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The NICs of a new VM resolved against the cluster, before anything is created: every network
 * exists (404) and its bridge is on the host (409), every given MAC is free in the cluster (409),
 * and every NIC without one gets a fresh locally administered MAC no other NIC has. The store's
 * unique MAC column catches a race with another creation at insert, which then undoes everything.
 */
record NicAssignment(List<NicRow> rows, List<AgentNic> agentNics) {

  /** tries before giving up on finding a free random MAC: 2^24 of them, so only a full cluster gets here */
  private static final int TRIES = 100;

  static NicAssignment resolve(String vm, List<NicRequest> nics, HostRow host, Store store, HostRegistry hosts,
      RandomGenerator random) {
    List<NicRow> rows = new ArrayList<>();
    List<AgentNic> agentNics = new ArrayList<>();
    Set<String> used = new HashSet<>();
    nics.stream().map(NicRequest::mac).filter(java.util.Objects::nonNull).forEach(used::add);
    for (int i = 0; i < nics.size(); i++) {
      NicRequest n = nics.get(i);
      String f = "nics[" + i + "]";
      NetworkRow net = store.networks().find(n.network()).orElseThrow(() -> {
        String known = String.join(", ", store.networks().all().stream().map(NetworkRow::name).toList());
        return ControllerException.notFound(f + ".network", n.network(), "network '" + n.network()
            + "' does not exist (networks: " + (known.isEmpty() ? "none" : known) + ")", known);
      });
      if (!hosts.hasBridge(host.name(), net.bridge())) {
        throw ControllerException.conflict(f + ".network", n.network(), "host '" + host.name() + "' does not have bridge '"
            + net.bridge() + "' of network '" + net.name() + "'");
      }
      String mac = n.mac();
      if (mac != null) {
        String holder = store.networks().vmWithMac(mac).orElse(null);
        if (holder != null) {
          throw ControllerException.conflict(f + ".mac", mac, "mac " + mac + " is taken by a nic of vm '" + holder
              + "'; MACs are unique in the cluster");
        }
      } else {
        mac = fresh(store, used, random);
      }
      used.add(mac);
      rows.add(new NicRow(vm, i, net.name(), mac));
      agentNics.add(new AgentNic(net.name(), net.bridge(), mac, null));
    }
    return new NicAssignment(List.copyOf(rows), List.copyOf(agentNics));
  }

  private static String fresh(Store store, Set<String> used, RandomGenerator random) {
    for (int t = 0; t < TRIES; t++) {
      String mac = Macs.random(random);
      if (!used.contains(mac) && store.networks().vmWithMac(mac).isEmpty()) return mac;
    }
    throw ControllerException.conflict("nics", null, "no free MAC found in " + TRIES + " tries");
  }
}
