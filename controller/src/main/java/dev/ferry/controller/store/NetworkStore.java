package dev.ferry.controller.store;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** The {@code networks} table (name → bridge) and the {@code nics} of VMs. */
public final class NetworkStore {

  /** A stored network: its name and the bridge it is on every host. */
  public record NetworkRow(String name, String bridge) {}

  private final Jdbi jdbi;

  NetworkStore(Jdbi jdbi) {
    this.jdbi = jdbi;
  }

  public List<NetworkRow> all() {
    return jdbi.withHandle(h -> h.createQuery("SELECT name, bridge FROM networks ORDER BY name")
        .map((rs, ctx) -> new NetworkRow(rs.getString("name"), rs.getString("bridge"))).list());
  }

  public Optional<NetworkRow> find(String name) {
    return jdbi.withHandle(h -> h.createQuery("SELECT name, bridge FROM networks WHERE name = :name")
        .bind("name", name).map((rs, ctx) -> new NetworkRow(rs.getString("name"), rs.getString("bridge"))).findOne());
  }

  public void insert(NetworkRow n) {
    jdbi.useHandle(h -> h.createUpdate("INSERT INTO networks (name, bridge) VALUES (:name, :bridge)")
        .bind("name", n.name()).bind("bridge", n.bridge()).execute());
  }

  /** The VM that has NIC {@code mac}, if any. */
  public Optional<String> vmWithMac(String mac) {
    return jdbi.withHandle(h -> h.createQuery("SELECT vm FROM nics WHERE mac = :mac").bind("mac", mac)
        .mapTo(String.class).findOne());
  }

  public List<NicRow> nics(String vm) {
    return jdbi.withHandle(h -> h.createQuery("SELECT * FROM nics WHERE vm = :vm ORDER BY idx").bind("vm", vm)
        .map((rs, ctx) -> new NicRow(rs.getString("vm"), rs.getInt("idx"), rs.getString("network"), rs.getString("mac")))
        .list());
  }

  /** The NICs of the VMs named, by VM name (one query). */
  public Map<String, List<NicRow>> nicsOf(List<String> vms) {
    Map<String, List<NicRow>> byVm = new LinkedHashMap<>();
    if (vms.isEmpty()) return byVm;
    jdbi.withHandle(h -> h.createQuery("SELECT * FROM nics WHERE vm IN (<vms>) ORDER BY vm, idx").bindList("vms", vms)
            .map((rs, ctx) -> new NicRow(rs.getString("vm"), rs.getInt("idx"), rs.getString("network"), rs.getString("mac")))
            .list())
        .forEach(n -> byVm.computeIfAbsent(n.vm(), k -> new java.util.ArrayList<>()).add(n));
    return byVm;
  }
}
