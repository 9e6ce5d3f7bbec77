package dev.ferry.agent.migration;

import dev.ferry.agent.Subprocess;
import java.time.Duration;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The arriving VM as this host defines it: the source's device model, which the migration stream
 * must match exactly. Its machine type must be the source's resolved one and one this host's QEMU
 * has; its RAM is the size the source runs with, to the byte; its copied disks point at empty
 * images of the source's virtual size created here.
 */
final class IncomingDefinition {

  private final QemuHost host;
  private final Pools pools;

  IncomingDefinition(QemuHost host, Pools pools) {
    this.host = host;
    this.pools = pools;
  }

  MemoryPlan plan(IncomingRequest req) {
    long requested = req.definition().memoryBytes();
    long given = req.memoryGivenBytes();
    if (given < 16L << 20 || given % 4096 != 0 || given > requested) {
      throw AgentException.badInput("memory_given_bytes", Long.toString(given),
          "the source's memory_given_bytes: whole 4 KiB pages, at least 16 MiB, at most memory_bytes (" + requested + ")");
    }
    MemoryPlan own = MemoryPlan.plan(given, host.accelerator(), host.qemu().version());
    if (own.adjusted()) {
      // the source runs with a size that loses dirty pages here: the copy would be corrupt
      throw AgentException.badInput("memory_given_bytes", Long.toString(given), own.adjustment().orElse("")
          + "; the source must run with a size that is not a multiple of 256 KiB");
    }
    return new MemoryPlan(requested, given, given == requested ? Optional.empty()
        : Optional.of("as on the migration source: " + (given / 1024) + " KiB instead of " + (requested / 1024) + " KiB"));
  }

  void machineType(AgentVmDefinition def) {
    String mt = def.machineType();
    String allowed = "the source's resolved machine type, one this host's qemu " + host.qemu().version() + " has (e.g. pc-q35-7.2)";
    if (mt == null) throw AgentException.badInput("definition.machine_type", null, allowed);
    try {
      if (!host.qemu().resolveMachineType(mt).equals(mt)) throw AgentException.badInput("definition.machine_type", mt, allowed);
    } catch (AgentException e) {
      throw AgentException.badInput("definition.machine_type", mt, allowed);
    }
  }

  static AgentVmDefinition withPaths(AgentVmDefinition def, Map<String, String> paths, List<CopyStorageDisk> copies) {
    List<AgentDisk> disks = def.disks() == null ? List.of() : def.disks();
    var out = new ArrayList<AgentDisk>();
    for (int i = 0; i < disks.size(); i++) {
      AgentDisk d = disks.get(i);
      String id = d.id() == null ? "disk" + i : d.id();
      String format = copies.stream().filter(c -> c.disk().equals(id)).findFirst().map(IncomingDefinition::format)
          .orElse(d.format());
      out.add(paths.containsKey(id) ? new AgentDisk(id, paths.get(id), format) : d);
    }
    for (String id : paths.keySet()) {
      if (out.stream().noneMatch(d -> id.equals(d.id()))) {
        throw AgentException.badInput("copy_storage.disk", id, "a disk id of the definition");
      }
    }
    return def.withDisks(out);
  }

  static List<CopyStorageDisk> copies(IncomingRequest req) {
    return req.copyStorage() == null ? List.of() : req.copyStorage();
  }

  static String format(CopyStorageDisk d) {
    return d.format() == null ? "qcow2" : d.format();
  }

  /** Where the copy of disk {@code d} goes; an image there already is someone else's. */
  Path newImage(String name, CopyStorageDisk d) {
    Pool pool = pools.get(d.pool());
    Path image = pool.path().resolve(name + "-" + d.disk() + "." + format(d));
    if (Files.exists(image)) {
      throw new AgentException(Kind.CONFLICT, "image " + image + " for disk " + d.disk() + " already exists in pool "
          + pool.name());
    }
    return image;
  }

  void createImage(Path image, String format, long size) {
    var cmd = List.of(host.qemu().imgBinary().toString(), "create", "-q", "-f", format, image.toString(), Long.toString(size));
    Subprocess.run(cmd, Duration.ofSeconds(60)).requireOk();
    pools.handOver(image);
  }
}
