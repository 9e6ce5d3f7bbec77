package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.Subprocess;
import dev.ferry.agent.cold.ImageHashes;
import dev.ferry.agent.pool.Pool;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.api.agent.WarmCopyRequest;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.api.agent.WarmPassCopy;
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
 * The target side of a warm migration: new images in this host's pools, filled pass by pass by
 * {@link WarmPass}. The record ({@code DATA/warm/copies/ID.json}, with the image paths, the pass
 * and the byte counts) is written before any image is made and after each pass, so a cancel, also
 * after an agent restart, deletes exactly what this copy made. A pass that ran when the agent
 * stopped is failed on restart; the controller asks for the same pass again (the source keeps its
 * bitmap until the next pass is prepared), so the passes resume where they were.
 */
public final class WarmCopies {

  private static final Logger log = LoggerFactory.getLogger(WarmCopies.class);

  /** What is persisted about one copy. */
  record CopyRecord(String migrationId, String vm, String state, int pass, List<AgentDisk> images, long bandwidth,
      long copiedBytes, long skippedBytes, long passCopiedBytes, long passPlannedBytes, Long passMs, String error) {
    CopyRecord passState(int p, String s, long copied, long skipped, long passCopied, long passPlanned, Long ms,
        String err) {
      return new CopyRecord(migrationId, vm, s, p, images, bandwidth, copied, skipped, passCopied, passPlanned, ms,
          err);
    }
  }

  private final Path dir;
  private final Pools pools;
  private final Vms vms;
  private final Path daemon;
  private final Path qemuImg;
  private final Path tlsDir;
  private final ImageHashes hashes;
  private final Map<String, WarmPass> running = new ConcurrentHashMap<>();
  /**
   * Per copy, the chunk size of each disk's hashes: fixed when the copy starts, and reading the
   * whole ledger for it (a hash per MiB of disk) was most of a pass request's time, the final
   * one's while the guest is down.
   */
  private final Map<String, Map<String, Long>> chunkBytes = new ConcurrentHashMap<>();
  /** Per copy, its hash ledger as last written ({@link #ledger}) */
  private final Map<String, HashLedger> ledgers = new ConcurrentHashMap<>();
  private final WarmWriters writers;

  public WarmCopies(Path dataDir, Pools pools, Vms vms, Path daemon, Path qemuImg, Path tlsDir, ImageHashes hashes) {
    this.dir = dataDir.resolve("warm/copies");
    this.pools = pools;
    this.vms = vms;
    this.daemon = daemon;
    this.qemuImg = qemuImg;
    this.tlsDir = tlsDir;
    this.hashes = hashes;
    this.writers = new WarmWriters(dir, daemon);
    for (CopyRecord r : all()) {
      if (r.state().equals(WarmCopyStatus.COPYING)) {
        write(r.passState(r.pass(), WarmCopyStatus.FAILED, r.copiedBytes(), r.skippedBytes(), 0, 0, null,
            "the agent restarted during pass " + r.pass()));
      }
    }
  }

  public synchronized WarmCopyStatus start(String id, WarmCopyRequest req) {
    if (read(id).isPresent()) return status(id);
    if (req.source().tls() && tlsDir == null) {
      throw new AgentException(Kind.CONFLICT, "the source serves over tls, but this agent has no tls directory");
    }
    List<AgentDisk> images = new ArrayList<>();
    List<Long> sizes = new ArrayList<>();
    for (ColdCopyRequest.Disk d : req.disks()) {
      ColdExport.ColdExportDisk src = req.source().disks().stream().filter(x -> x.disk().equals(d.disk())).findFirst()
          .orElseThrow(() -> AgentException.badInput("disks", d.disk(), "a disk the source exports"));
      Pool pool = pools.get(d.pool());
      String format = d.format() == null ? src.format() : d.format();
      if (!format.equals("raw") && !format.equals("qcow2")) throw AgentException.badInput("format", format, "raw or qcow2");
      Path image = pool.path().resolve(req.vm() + "-" + d.disk() + "-" + id.substring(0, 8) + "." + format);
      if (Files.exists(image)) {
        throw new AgentException(Kind.CONFLICT, "image " + image + " already exists in pool " + pool.name());
      }
      images.add(new AgentDisk(d.disk(), image.toString(), format));
      sizes.add(src.virtualSize());
    }
    CopyRecord r = new CopyRecord(id, req.vm(), WarmCopyStatus.READY, -1, images, req.bandwidthBytes(), 0, 0, 0, 0,
        null, null);
    write(r);
    Map<String, Long> bySize = new java.util.LinkedHashMap<>();
    for (int i = 0; i < images.size(); i++) bySize.put(images.get(i).id(), sizes.get(i));
    keep(id, HashLedger.unknown(id, bySize));
    try {
      for (int i = 0; i < images.size(); i++) {
        Subprocess.run(List.of(qemuImg.toString(), "create", "-q", "-f", images.get(i).format(), images.get(i).path(),
            Long.toString(sizes.get(i))), Duration.ofSeconds(60)).requireOk();
      }
    } catch (AgentException e) {
      write(r.passState(-1, WarmCopyStatus.FAILED, 0, 0, 0, 0, null, e.getMessage()));
      throw e;
    }
    log.info("warm copy {}: vm {} images {} made", id, req.vm(), images.stream().map(AgentDisk::path).toList());
    return status(id);
  }

  /** Starts pass {@code req.pass()}; the pass under way or done answers its status, a failed one runs again. */
  public synchronized WarmCopyStatus pass(String id, WarmPassCopy req) {
    CopyRecord r = require(id);
    if (r.state().equals(WarmCopyStatus.CANCELLED)) throw new AgentException(Kind.CONFLICT, "warm copy " + id + " was cancelled");
    if (req.pass() == r.pass() && !r.state().equals(WarmCopyStatus.FAILED)) return status(id);
    if (req.pass() != r.pass() && req.pass() != r.pass() + 1) {
      throw AgentException.badInput("pass", Integer.toString(req.pass()), "pass " + r.pass() + " again or pass "
          + (r.pass() + 1));
    }
    if (running.containsKey(id)) throw new AgentException(Kind.CONFLICT, "warm copy " + id + " still runs a pass");
    if (req.pass() > 0 && req.bitmap() == null) throw AgentException.badInput("bitmap", "", "the bitmap pass "
        + req.pass() + " copies");
    write(r.passState(req.pass(), WarmCopyStatus.COPYING, r.copiedBytes(), r.skippedBytes(), 0, 0, null, null));
    Map<String, Long> chunks = chunkBytes.computeIfAbsent(id, k -> {
      HashLedger ledger = ledger(k);
      Map<String, Long> m = new java.util.HashMap<>();
      for (AgentDisk img : r.images()) m.put(img.id(), ledger.chunkBytes(img.id()));
      return Map.copyOf(m);
    });
    WarmPass pass = new WarmPass(id, req, r.images(), r.bandwidth(), tlsDir, chunks, writers, this::finished);
    running.put(id, pass);
    pass.start();
    log.info("warm copy {}: pass {} from {}:{} ({}){}", id, req.pass(), req.source().host(), req.source().port(),
        req.source().tls() ? "tls" : "plain", req.bitmap() == null ? ", whole disks" : ", bitmap " + req.bitmap());
    return status(id);
  }

  private synchronized void finished(WarmPass p) {
    read(p.id()).ifPresent(r -> {
      if (r.state().equals(WarmCopyStatus.COPYING) && r.pass() == p.pass()) {
        // the images are QEMU's to open once the VM is defined here: handed over after every good pass
        if (p.ok()) for (AgentDisk img : r.images()) pools.handOver(Path.of(img.path()));
        // the pass's hashes before the pass counts as copied: a restart in between reruns the pass
        if (p.ok()) {
          long t0 = System.nanoTime();
          keep(p.id(), ledger(p.id()).with(p.pass(), p.hashed()));
          log.info("warm copy {}: pass {} hashes kept in {} ms", p.id(), p.pass(), (System.nanoTime() - t0) / 1_000_000);
        }
        String state = p.ok() ? WarmCopyStatus.COPIED : p.wasCancelled() ? WarmCopyStatus.CANCELLED : WarmCopyStatus.FAILED;
        write(r.passState(r.pass(), state, r.copiedBytes() + p.copiedBytes(), r.skippedBytes() + p.skippedBytes(),
            p.copiedBytes(), p.plannedBytes(), p.ms(), p.ok() ? null : p.error()));
        if (p.ok() && p.last()) handOverImages(p.id(), r.vm());
      }
    });
    running.remove(p.id(), p);
  }

  public WarmCopyStatus status(String id) {
    CopyRecord r = require(id);
    WarmPass p = running.get(id);
    if (p != null && r.state().equals(WarmCopyStatus.COPYING)) {
      return new WarmCopyStatus(id, r.state(), r.pass(), r.copiedBytes() + p.copiedBytes(),
          r.skippedBytes() + p.skippedBytes(), p.copiedBytes(), p.plannedBytes(), null, r.images(), null);
    }
    return new WarmCopyStatus(id, r.state(), r.pass(), r.copiedBytes(), r.skippedBytes(), r.passCopiedBytes(),
        r.passPlannedBytes(), r.passMs(), r.images(), r.error());
  }

  /** Stops the pass and deletes the images and the record; an unknown copy answers cancelled. */
  public WarmCopyStatus cancel(String id) {
    WarmPass p = running.get(id);
    if (p != null) p.cancelAndWait();
    writers.stop(id);
    synchronized (this) {
      Optional<CopyRecord> r = read(id);
      if (r.isEmpty()) return new WarmCopyStatus(id, WarmCopyStatus.CANCELLED, -1, 0, 0, 0, 0, null, List.of(), null);
      for (AgentDisk img : r.get().images()) {
        if (vms.exists(r.get().vm()) && vms.peek(r.get().vm()).spec().disks().stream()
            .anyMatch(d -> d.path().equals(img.path()))) {
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
      log.info("warm copy {}: cancelled, images {} deleted", id, r.get().images().stream().map(AgentDisk::path).toList());
      return new WarmCopyStatus(id, WarmCopyStatus.CANCELLED, r.get().pass(), r.get().copiedBytes(),
          r.get().skippedBytes(), 0, 0, null, List.of(), r.get().error());
    }
  }

  /** Forgets a finished copy; its images stay (a VM uses them now). */
  public synchronized WarmCopyStatus forget(String id) {
    Optional<CopyRecord> r = read(id);
    if (r.isEmpty()) return new WarmCopyStatus(id, WarmCopyStatus.COPIED, -1, 0, 0, 0, 0, null, List.of(), null);
    if (running.containsKey(id)) throw new AgentException(Kind.CONFLICT, "warm copy " + id + " still runs a pass");
    writers.stop(id);
    deleteRecord(id);
    return status(r.get());
  }

  /**
   * Right after the VM was staged here for a warm cutover, while its guest still runs on the
   * source: the images of its copy (between passes) go from the writer daemon to the staged QEMU,
   * which the final pass then writes through ({@link WarmWriters#inQemu}), so that the daemon's exit
   * and the images' opening are not part of the downtime. Best effort: where it fails, the images
   * are closed in that QEMU again and the final pass starts a daemon, as before.
   */
  public synchronized void openForFinalPass(String vm) {
    CopyRecord r = all().stream().filter(c -> c.vm().equals(vm) && c.state().equals(WarmCopyStatus.COPIED))
        .findFirst().orElse(null);
    if (r == null || running.containsKey(r.migrationId()) || !vms.exists(vm)) return;
    String id = r.migrationId();
    try {
      vms.openStagedForFinalPass(vm, () -> writers.stop(id))
          .ifPresent(w -> writers.inQemu(id, w.pid(), w.socket()));
    } catch (RuntimeException e) {
      log.warn("warm copy {}: images not opened in the staged vm {} ({}); the final pass writes them as the others",
          id, vm, e.getMessage());
    }
  }

  /**
   * After the final pass, at once rather than when the controller, which polls the pass, asks for it
   * ({@link #attach} then finds it done, or waits for it on the same locks): the writer lets go of
   * the images and the VM staged on them takes them, still paused. A failure here is only logged:
   * the controller's {@link #attach} does it again and answers it.
   */
  private void handOverImages(String id, String vm) {
    Thread.ofVirtual().name("warm-attach-" + id).start(() -> {
      try {
        writers.stop(id);
        if (vms.exists(vm)) vms.attachStaged(vm);
      } catch (RuntimeException e) {
        log.warn("warm copy {}: images not attached to vm {} after the final pass ({}); the cutover's attach does it"
            + " again", id, vm, e.getMessage());
      }
    });
  }

  /**
   * After the final pass: the writer stops (it holds the images' write lock; a final pass stopped
   * it already, or is stopping it) and the VM staged on them here gets them under its devices,
   * still paused ({@link Vms#attachStaged}); a VM with nothing staged is left to a plain start.
   * Idempotent.
   */
  public WarmCopyStatus attach(String id) {
    CopyRecord r = require(id);
    if (!r.state().equals(WarmCopyStatus.COPIED)) {
      throw new AgentException(Kind.CONFLICT, "warm copy " + id + " is " + r.state() + ", not copied; its images are"
          + " attached after the final pass");
    }
    writers.stop(id);
    if (vms.exists(r.vm())) vms.attachStaged(r.vm());
    return status(id);
  }

  /**
   * The hashes of the new images: those the passes kept ({@link HashLedger}), the rest (none,
   * unless the ledger was lost) computed from the images now.
   */
  public List<DiskHashes> hashes(String id) {
    CopyRecord r = require(id);
    if (!r.state().equals(WarmCopyStatus.COPIED)) {
      throw new AgentException(Kind.CONFLICT, "warm copy " + id + " is " + r.state() + ", not copied");
    }
    // the last pass is done: the images are the VM's to open next, without the writer's lock
    writers.stop(id);
    HashLedger ledger = ledger(id);
    if (ledger.unknownChunks() > 0) {
      log.info("warm copy {}: {} chunks not hashed by the passes, hashed now", id, ledger.unknownChunks());
      // reading an image takes its lock: a VM staged on it gets it first, as it would without this
      // read (the cutover asks for these hashes while it attaches)
      attach(id);
    }
    return r.images().stream().map(img -> hashes.fill(img.id(), Path.of(img.path()), img.format(),
        ledger.chunkBytes(img.id()), ledger.known(img.id()))).toList();
  }

  private Path ledgerFile(String id) {
    return dir.resolve(id + ".hashes");
  }

  /**
   * The copy's ledger as last written, from memory: read from its file (a hash per MiB of disk, a
   * few ms to parse) only by the first use after a start, where the final pass's end and the
   * hashes' answer each read it while the guest was down.
   */
  private HashLedger ledger(String id) {
    return ledgers.computeIfAbsent(id, k -> HashLedger.read(ledgerFile(k)).orElseThrow(() -> new AgentException(
        Kind.INTERNAL, "warm copy " + k + " has no hash ledger " + ledgerFile(k))));
  }

  /** Writes the copy's ledger, durably, and keeps it as the one {@link #ledger} answers. */
  private void keep(String id, HashLedger ledger) {
    ledgers.remove(id);
    ledger.write(ledgerFile(id));
    ledgers.put(id, ledger);
  }

  private static WarmCopyStatus status(CopyRecord r) {
    return new WarmCopyStatus(r.migrationId(), r.state(), r.pass(), r.copiedBytes(), r.skippedBytes(),
        r.passCopiedBytes(), r.passPlannedBytes(), r.passMs(), r.images(), r.error());
  }

  private CopyRecord require(String id) {
    return read(id).orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "no warm copy " + id + " on this host"));
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
    chunkBytes.remove(id);
    ledgers.remove(id);
    HashLedger.delete(ledgerFile(id));
    try {
      Files.deleteIfExists(dir.resolve(id + ".json"));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove the record of warm copy " + id, e);
    }
  }
}
