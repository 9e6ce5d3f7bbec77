package dev.ferry.agent.cold;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.FaultPoints;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdCopyStatus;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.DiskHashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target side of a cold migration: new images in this host's pools, filled by
 * {@link ColdPull} from the source's export. The copy's record ({@code DATA/cold/copies/ID.json},
 * with the image paths) is written before any image is made, so a cancel, also after an agent
 * restart, deletes exactly what this copy made. A copy does not survive an agent restart: it is
 * then failed, and the controller rolls back (and starts a new migration if asked).
 */
public final class ColdCopies {

  private static final Logger log = LoggerFactory.getLogger(ColdCopies.class);
  /** a test hook: flip one block of the copy after it is written, for the verifier to catch */
  static final String CORRUPT_POINT = "cold.corrupt-after-copy";

  /** What is persisted about one copy. */
  record CopyRecord(String migrationId, String vm, String state, List<AgentDisk> images, long totalBytes,
      long plannedBytes, long copiedBytes, long skippedBytes, String error) {
    CopyRecord with(String newState, String newError) {
      return new CopyRecord(migrationId, vm, newState, images, totalBytes, plannedBytes, copiedBytes, skippedBytes,
          newError);
    }
  }

  private final Path dir;
  private final Pools pools;
  private final Vms vms;
  private final Path daemon;
  private final Path qemuImg;
  private final Path tlsDir;
  private final ImageHashes hashes;
  private final Map<String, ColdPull> running = new ConcurrentHashMap<>();

  public ColdCopies(Path dataDir, Pools pools, Vms vms, Path daemon, Path qemuImg, Path tlsDir, ImageHashes hashes) {
    this.dir = dataDir.resolve("cold/copies");
    this.pools = pools;
    this.vms = vms;
    this.daemon = daemon;
    this.qemuImg = qemuImg;
    this.tlsDir = tlsDir;
    this.hashes = hashes;
    for (CopyRecord r : all()) {
      if (r.state().equals(ColdCopyStatus.COPYING)) {
        write(r.with(ColdCopyStatus.FAILED, "the agent restarted during the copy"));
      }
    }
  }

  public synchronized ColdCopyStatus start(String id, ColdCopyRequest req) {
    Optional<CopyRecord> existing = read(id);
    if (existing.isPresent()) return status(id);
    if (req.source().tls() && tlsDir == null) {
      throw new AgentException(Kind.CONFLICT, "the source serves over tls, but this agent has no tls directory");
    }
    List<AgentDisk> images = new ArrayList<>();
    long total = 0;
    for (ColdCopyRequest.Disk d : req.disks()) {
      ColdExport.ColdExportDisk src = req.source().disks().stream().filter(x -> x.disk().equals(d.disk())).findFirst()
          .orElseThrow(() -> AgentException.badInput("disks", d.disk(), "a disk the source exports"));
      Pool pool = pools.get(d.pool());
      String format = d.format() == null ? src.format() : d.format();
      if (!format.equals("raw") && !format.equals("qcow2")) {
        throw AgentException.badInput("format", format, "raw or qcow2");
      }
      Path image = pool.path().resolve(req.vm() + "-" + d.disk() + "-" + id.substring(0, 8) + "." + format);
      if (Files.exists(image)) {
        throw new AgentException(Kind.CONFLICT, "image " + image + " already exists in pool " + pool.name());
      }
      images.add(new AgentDisk(d.disk(), image.toString(), format));
      total += src.virtualSize();
    }
    CopyRecord r = new CopyRecord(id, req.vm(), ColdCopyStatus.COPYING, images, total, 0, 0, 0, null);
    write(r);
    try {
      for (AgentDisk img : images) {
        long size = req.source().disks().stream().filter(x -> x.disk().equals(img.id())).findFirst().orElseThrow()
            .virtualSize();
        Subprocess.run(List.of(qemuImg.toString(), "create", "-q", "-f", img.format(), img.path(),
            Long.toString(size)), Duration.ofSeconds(60)).requireOk();
      }
    } catch (AgentException e) {
      write(r.with(ColdCopyStatus.FAILED, e.getMessage()));
      throw e;
    }
    ColdPull pull = new ColdPull(id, req, images, daemon, tlsDir, FaultPoints.armed(CORRUPT_POINT), this::finished);
    running.put(id, pull);
    pull.start();
    log.info("cold copy {}: vm {} pulling {} from {}:{} ({}) into {}", id, req.vm(), req.disks().size() + " disk(s)",
        req.source().host(), req.source().port(), req.source().tls() ? "tls" : "plain", images);
    return status(id);
  }

  /** Called by the pull's thread when it ended: the outcome is persisted. */
  private synchronized void finished(ColdPull pull) {
    read(pull.id()).ifPresent(r -> {
      var done = new CopyRecord(r.migrationId(), r.vm(), pull.outcome(), r.images(), r.totalBytes(),
          pull.plannedBytes(), pull.copiedBytes(), pull.skippedBytes(), pull.error());
      if (done.state().equals(ColdCopyStatus.COPIED)) {
        for (AgentDisk img : r.images()) pools.handOver(Path.of(img.path()));
      }
      write(done);
    });
    running.remove(pull.id(), pull);
  }

  public ColdCopyStatus status(String id) {
    CopyRecord r = read(id).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "no cold copy " + id + " on this host"));
    ColdPull pull = running.get(id);
    if (pull != null && r.state().equals(ColdCopyStatus.COPYING)) {
      return new ColdCopyStatus(id, r.state(), pull.copiedBytes(), pull.skippedBytes(), r.totalBytes(),
          pull.plannedBytes(), r.images(), null);
    }
    return new ColdCopyStatus(id, r.state(), r.copiedBytes(), r.skippedBytes(), r.totalBytes(), r.plannedBytes(),
        r.images(), r.error());
  }

  /** Stops the copy and deletes its images and record; an unknown copy answers cancelled. */
  public ColdCopyStatus cancel(String id) {
    ColdPull pull = running.get(id);
    if (pull != null) pull.cancelAndWait();
    synchronized (this) {
      Optional<CopyRecord> r = read(id);
      if (r.isEmpty()) return new ColdCopyStatus(id, ColdCopyStatus.CANCELLED, 0, 0, 0, 0, List.of(), null);
      for (AgentDisk img : r.get().images()) {
        if (usedByVm(r.get().vm(), img.path())) {
          throw new AgentException(Kind.CONFLICT, "image " + img.path() + " belongs to vm " + r.get().vm()
              + " on this host now; not deleted");
        }
      }
      for (AgentDisk img : r.get().images()) {
        try {
          Files.deleteIfExists(Path.of(img.path()));
        } catch (IOException e) {
          throw new AgentException(Kind.INTERNAL, "cannot delete " + img.path() + ": " + e.getMessage(), e);
        }
      }
      deleteRecord(id);
      log.info("cold copy {}: cancelled, images {} deleted", id, r.get().images().stream().map(AgentDisk::path).toList());
      return new ColdCopyStatus(id, ColdCopyStatus.CANCELLED, r.get().copiedBytes(), r.get().skippedBytes(),
          r.get().totalBytes(), r.get().plannedBytes(), List.of(), r.get().error());
    }
  }

  /** Forgets a finished copy; its images stay (a VM uses them now). */
  public synchronized ColdCopyStatus forget(String id) {
    Optional<CopyRecord> r = read(id);
    if (r.isEmpty()) return new ColdCopyStatus(id, ColdCopyStatus.COPIED, 0, 0, 0, 0, List.of(), null);
    if (running.containsKey(id)) throw new AgentException(Kind.CONFLICT, "cold copy " + id + " still runs");
    deleteRecord(id);
    return new ColdCopyStatus(id, r.get().state(), r.get().copiedBytes(), r.get().skippedBytes(), r.get().totalBytes(),
        r.get().plannedBytes(), r.get().images(), r.get().error());
  }

  public List<DiskHashes> hashes(String id) {
    CopyRecord r = read(id).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "no cold copy " + id + " on this host"));
    if (!r.state().equals(ColdCopyStatus.COPIED)) {
      throw new AgentException(Kind.CONFLICT, "cold copy " + id + " is " + r.state() + ", not copied");
    }
    return r.images().stream().map(img -> hashes.of(img.id(), Path.of(img.path()), img.format())).toList();
  }

  private boolean usedByVm(String vm, String path) {
    return vms.exists(vm) && vms.peek(vm).spec().disks().stream().anyMatch(d -> d.path().equals(path));
  }

  private Optional<CopyRecord> read(String id) {
    if (!id.matches("[A-Za-z0-9-]{8,64}")) throw AgentException.badInput("id", id, "a migration id");
    Path f = dir.resolve(id + ".json");
    return Files.exists(f) ? Optional.of(JsonFiles.read(f, CopyRecord.class)) : Optional.empty();
  }

  private List<CopyRecord> all() {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.toString().endsWith(".json")).map(f -> JsonFiles.read(f, CopyRecord.class)).toList();
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  private void write(CopyRecord r) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create " + dir + ": " + e.getMessage(), e);
    }
    JsonFiles.write(dir.resolve(r.migrationId() + ".json"), r);
  }

  private void deleteRecord(String id) {
    try {
      Files.deleteIfExists(dir.resolve(id + ".json"));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove the record of cold copy " + id, e);
    }
  }
}
