package dev.ferry.agent.cold;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.migration.PortRange;
import dev.ferry.agent.pool.ImageChain;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.ColdExportRequest;
import dev.ferry.api.agent.DiskHashes;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source side of a cold migration: a stopped VM's disks served read-only by one
 * {@code qemu-storage-daemon} on a port of the migration range (TLS with the host's certificate,
 * only the target host let in, when the cluster uses TLS). The export is recorded in
 * {@code DATA/cold/exports/VM.json} before the daemon starts, so an agent restarted meanwhile
 * still finds and stops it; while it exists the VM does not start (its disks must not change
 * under the copy).
 */
public final class ColdExports {

  private static final Logger log = LoggerFactory.getLogger(ColdExports.class);
  private static final int BIND_ATTEMPTS = 5;

  /** What is persisted about one export. */
  record Exported(ColdExport export, String pidFile) {}

  private final Path dir;
  private final Vms vms;
  private final Path daemon;
  private final String address;
  private final PortRange ports;
  private final Path tlsDir;
  private final ImageHashes hashes;

  /**
   * @param tlsDir the host's TLS directory, null for a cluster without TLS
   */
  public ColdExports(Path dataDir, Vms vms, Path daemon, String address, PortRange ports, Path tlsDir,
      ImageHashes hashes) {
    this.dir = dataDir.resolve("cold/exports");
    this.vms = vms;
    this.daemon = daemon;
    this.address = address;
    this.ports = ports;
    this.tlsDir = tlsDir;
    this.hashes = hashes;
  }

  /** Refuses a start (or other action but stop) of a VM whose disks are exported: a copy reads them. */
  public void checkAction(String vm, String action) {
    if (!action.equals("stop") && !action.equals("kill") && read(vm).isPresent()) {
      throw new AgentException(Kind.CONFLICT, "vm " + vm + " cannot " + action + ": its disks are exported for cold"
          + " migration " + read(vm).get().export().migrationId() + "; cancel the migration first");
    }
  }

  public synchronized ColdExport export(String vm, ColdExportRequest req) {
    Optional<Exported> existing = read(vm);
    if (existing.isPresent()) {
      Exported e = existing.get();
      if (!e.export().migrationId().equals(req.migrationId())) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " is exported for cold migration "
            + e.export().migrationId());
      }
      if (alive(e)) return e.export();
      stopQuietly(e); // a daemon that died: serve anew on a new port
    }
    return vms.withVm(vm, "export the disks of", Vms.ACTION_WAIT, h -> {
      if (h.process().isPresent() || h.status().state() != VmState.STOPPED) {
        throw new AgentException(Kind.CONFLICT, "vm " + vm + " is " + h.status().state().name()
            .toLowerCase(java.util.Locale.ROOT) + "; only a stopped vm migrates cold");
      }
      List<NbdDaemon.Image> images = new ArrayList<>();
      List<ColdExport.ColdExportDisk> disks = new ArrayList<>();
      for (DiskSpec d : h.spec().disks()) {
        images.add(new NbdDaemon.Image(d.id(), Path.of(d.path()), d.format().driver(), false));
        disks.add(new ColdExport.ColdExportDisk(d.id(), d.id(), d.format().driver(),
            ImageChain.virtualSize(Path.of(d.path()), d.format().driver(), hashes.qemuImg())));
      }
      NbdDaemon.Tls tls = tlsDir == null ? null
          : new NbdDaemon.Tls(tlsDir, "CN=" + req.targetHost());
      AgentException last = null;
      for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
        int port = choosePort();
        Path pidFile = dir.resolve(vm + "." + req.migrationId() + ".pid");
        var planned = new ColdExport(req.migrationId(), address, port, tls != null, 0, disks);
        write(vm, new Exported(planned, pidFile.toString()));
        try {
          Process p = NbdDaemon.start(NbdDaemon.serve(daemon, pidFile, new NbdDaemon.Listen.Tcp(address, port),
              images, tls), new NbdDaemon.Listen.Tcp(address, port), dir.resolve(vm + ".log"));
          var started = new ColdExport(req.migrationId(), address, port, tls != null, p.pid(), disks);
          write(vm, new Exported(started, pidFile.toString()));
          log.info("vm {}: disks {} exported for cold migration {} on {}:{} ({}, pid {})", vm,
              disks.stream().map(ColdExport.ColdExportDisk::disk).toList(), req.migrationId(), address, port,
              tls != null ? "tls" : "plain", p.pid());
          return started;
        } catch (AgentException e) {
          last = e; // most likely the port was taken between the probe and the bind: another port
          log.info("vm {}: export on port {} failed: {}", vm, port, e.getMessage());
        }
      }
      delete(vm);
      throw last;
    });
  }

  /** Stops the daemon and forgets the export; idempotent. */
  public synchronized void stop(String vm) {
    Optional<Exported> e = read(vm);
    if (e.isEmpty()) return;
    NbdDaemon.stop(e.get().export().pid(), Path.of(e.get().pidFile()));
    delete(vm);
    log.info("vm {}: cold export of migration {} stopped", vm, e.get().export().migrationId());
  }

  /** Chunk hashes of the VM's disks, read here through a local read-only export. */
  public List<DiskHashes> hashes(String vm) {
    var spec = vms.peek(vm).spec();
    List<DiskHashes> out = new ArrayList<>();
    for (DiskSpec d : spec.disks()) {
      out.add(hashes.of(d.id(), Path.of(d.path()), d.format().driver()));
    }
    return out;
  }

  private int choosePort() {
    InetAddress bind;
    try {
      bind = InetAddress.getByName(address);
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "migration address " + address + " does not resolve", e);
    }
    int start = ThreadLocalRandom.current().nextInt(ports.size());
    for (int i = 0; i < ports.size(); i++) {
      int port = ports.first() + (start + i) % ports.size();
      try (var s = new ServerSocket(port, 1, bind)) {
        return s.getLocalPort();
      } catch (IOException e) {
        // taken: the next one
      }
    }
    throw new AgentException(Kind.UNAVAILABLE, "no free tcp port in the migration port range " + ports);
  }

  private boolean alive(Exported e) {
    return e.export().pid() > 0 && ProcessHandle.of(e.export().pid()).map(ProcessHandle::isAlive).orElse(false);
  }

  private void stopQuietly(Exported e) {
    try {
      NbdDaemon.stop(e.export().pid(), Path.of(e.pidFile()));
    } catch (AgentException ex) {
      log.warn("cold export daemon pid {}: {}", e.export().pid(), ex.getMessage());
    }
  }

  private Optional<Exported> read(String vm) {
    Path f = dir.resolve(vm + ".json");
    return Files.exists(f) ? Optional.of(JsonFiles.read(f, Exported.class)) : Optional.empty();
  }

  private void write(String vm, Exported e) {
    try {
      Files.createDirectories(dir);
    } catch (IOException ex) {
      throw new AgentException(Kind.INTERNAL, "cannot create " + dir + ": " + ex.getMessage(), ex);
    }
    JsonFiles.write(dir.resolve(vm + ".json"), e);
  }

  private void delete(String vm) {
    try {
      Files.deleteIfExists(dir.resolve(vm + ".json"));
    } catch (IOException ex) {
      throw new AgentException(Kind.INTERNAL, "cannot remove the export record of vm " + vm, ex);
    }
  }
}
