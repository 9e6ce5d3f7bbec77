package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.cold.ImageHashes;
import dev.ferry.agent.cold.NbdDaemon;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.WarmPassCopy;
import dev.ferry.nbd.Extent;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.copy.CopyPlan;
import dev.ferry.nbd.copy.CopyTarget;
import dev.ferry.nbd.copy.DiskCopy;
import dev.ferry.nbd.copy.NbdTarget;
import dev.ferry.nbd.copy.RawFileTarget;
import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of a warm copy, disk by disk, on a thread of its own, with Ferry's copier (4
 * connections, 4 MiB requests, the shared bandwidth cap).
 *
 * <p>The plan: pass 0 copies what {@code base:allocation} says is data (the new image reads as
 * zero elsewhere); a later pass copies only the ranges the pass's dirty bitmap marks, each split
 * by {@code base:allocation} into data (sent) and zeroes (zeroed on the target, not sent).
 *
 * <p>Where the bitmap is read: without TLS Ferry's client asks the source QEMU for
 * {@code qemu:dirty-bitmap:NAME} directly. With TLS a local {@code qemu-storage-daemon} relays
 * the source's exports (QEMU's NBD client does the TLS, as for a cold copy), but a relay passes on
 * only {@code base:allocation}; so it opens each disk twice, once plainly (data and allocation)
 * and once with {@code x-dirty-bitmap=qemu:dirty-bitmap:NAME}, QEMU's documented way to read a
 * bitmap through its NBD client (used by {@code qemu-img map} for incremental backups): there a
 * dirty extent shows as a hole ({@code NBD_STATE_HOLE} = {@code NBD_STATE_DIRTY} = 1) on the
 * relay's {@code base:allocation}.
 */
final class WarmPass {

  private static final Logger log = LoggerFactory.getLogger(WarmPass.class);
  private static final int CONNECTIONS = 4;
  private static final int REQUEST = 4 << 20;
  static final String DIRTY_SUFFIX = "-dirty";

  private final String id;
  private final WarmPassCopy req;
  private final List<AgentDisk> images;
  private final long bandwidth;
  private final Path daemon;
  private final Path tlsDir;
  private final Consumer<WarmPass> onEnd;
  /** chunk size per disk of the copy's hash ledger */
  private final Map<String, Long> chunkBytes;
  private final WarmWriters writers;
  /** the chunks this pass wrote, hashed from the new image after it wrote them */
  private final Map<String, Map<Integer, String>> hashed = new ConcurrentHashMap<>();
  private final Thread thread;
  private final long startedNanos = System.nanoTime();
  private volatile DiskCopy current;
  private volatile boolean cancelled;
  private volatile long doneCopied;
  private volatile long doneSkipped;
  private volatile long planned;
  private volatile long endedNanos;
  private volatile String error;
  private volatile boolean ok;

  WarmPass(String id, WarmPassCopy req, List<AgentDisk> images, long bandwidth, Path daemon, Path tlsDir,
      Map<String, Long> chunkBytes, WarmWriters writers, Consumer<WarmPass> onEnd) {
    this.chunkBytes = chunkBytes;
    this.writers = writers;
    this.id = id;
    this.req = req;
    this.images = images;
    this.bandwidth = bandwidth;
    this.daemon = daemon;
    this.tlsDir = tlsDir;
    this.onEnd = onEnd;
    this.thread = Thread.ofPlatform().name("ferry-warm-" + id.substring(0, 8) + "-" + req.pass()).unstarted(this::run);
  }

  String id() {
    return id;
  }

  int pass() {
    return req.pass();
  }

  void start() {
    thread.start();
  }

  long copiedBytes() {
    DiskCopy c = current;
    return doneCopied + (c == null ? 0 : c.copiedBytes());
  }

  long skippedBytes() {
    DiskCopy c = current;
    return doneSkipped + (c == null ? 0 : c.skippedBytes());
  }

  long plannedBytes() {
    return planned;
  }

  long ms() {
    long end = endedNanos == 0 ? System.nanoTime() : endedNanos;
    return (end - startedNanos) / 1_000_000;
  }

  /** Disk to chunk to hash, of the chunks this pass wrote; complete once {@link #ok()}. */
  Map<String, Map<Integer, String>> hashed() {
    return hashed;
  }

  boolean ok() {
    return ok;
  }

  boolean wasCancelled() {
    return cancelled;
  }

  String error() {
    return error;
  }

  void cancelAndWait() {
    cancelled = true;
    DiskCopy c = current;
    if (c != null) c.cancel();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    List<Started> daemons = new ArrayList<>();
    try {
      NbdAddress source = source(daemons);
      for (AgentDisk img : images) {
        if (cancelled) throw new CancellationException();
        ColdExport.ColdExportDisk src = req.source().disks().stream().filter(d -> d.disk().equals(img.id()))
            .findFirst().orElseThrow(() -> AgentException.badInput("source", img.id(), "an export of every disk"));
        copyDisk(source, src, img);
      }
      ok = true;
      log.info("warm copy {}: pass {} copied {} bytes, zeroed or skipped {} in {} ms", id, req.pass(), doneCopied,
          doneSkipped, ms());
    } catch (CancellationException e) {
      error = "cancelled";
    } catch (Exception e) {
      error = e.getMessage() == null ? e.toString() : e.getMessage();
      log.warn("warm copy {}: pass {}: {}", id, req.pass(), error, e);
    } finally {
      endedNanos = System.nanoTime();
      for (Started d : daemons) d.stop();
      onEnd.accept(this);
    }
  }

  private boolean relayed() {
    return req.source().tls();
  }

  private NbdAddress source(List<Started> daemons) {
    ColdExport src = req.source();
    if (!relayed()) return NbdAddress.tcp(src.host(), src.port());
    Path tmp = ImageHashes.privateDir();
    Path socket = tmp.resolve("relay.sock");
    Path pidFile = tmp.resolve("relay.pid");
    Process p = NbdDaemon.start(WarmRelay.command(daemon, pidFile, socket, src, req.bitmap(), tlsDir),
        new NbdDaemon.Listen.Unix(socket), tmp.resolve("relay.log"));
    daemons.add(new Started(p.pid(), pidFile, tmp));
    return NbdAddress.unix(socket);
  }

  private void copyDisk(NbdAddress source, ColdExport.ColdExportDisk src, AgentDisk img)
      throws Exception {
    CopyPlan plan;
    String dirtyContext = req.bitmap() == null ? null : MetaContexts.dirtyBitmap(req.bitmap());
    List<String> contexts = dirtyContext == null || relayed() ? List.of(MetaContexts.BASE_ALLOCATION)
        : List.of(MetaContexts.BASE_ALLOCATION, dirtyContext);
    try (NbdClient probe = NbdClient.connect(source, src.export(), contexts)) {
      if (probe.size() != src.virtualSize()) {
        throw new AgentException(AgentException.Kind.CONFLICT, "disk " + img.id() + ": the export has "
            + probe.size() + " bytes, the source said " + src.virtualSize());
      }
      List<Extent> allocation = probe.blockStatus(0, probe.size(), MetaContexts.BASE_ALLOCATION);
      if (dirtyContext == null) {
        plan = CopyPlan.fromAllocation(probe.size(), allocation);
      } else if (!relayed()) {
        plan = CopyPlan.fromDirty(probe.size(), probe.blockStatus(0, probe.size(), dirtyContext), allocation);
      } else {
        try (NbdClient dirty = NbdClient.connect(source, src.export() + DIRTY_SUFFIX,
            List.of(MetaContexts.BASE_ALLOCATION))) {
          // through x-dirty-bitmap a dirty extent reads as a hole: bit 0, the bit fromDirty takes as dirty
          plan = CopyPlan.fromDirty(probe.size(), dirty.blockStatus(0, dirty.size(), MetaContexts.BASE_ALLOCATION),
              allocation);
        }
      }
    }
    planned += plan.dataBytes();
    long planned0 = System.nanoTime();
    Writer target = writer(img);
    // pass 0 writes into a new image (reads as zero); later passes must zero what the guest zeroed
    DiskCopy copy = new DiskCopy(plan, () -> NbdClient.connect(source, src.export(),
        List.of(MetaContexts.BASE_ALLOCATION)), target.opener(),
        new DiskCopy.Options(CONNECTIONS, REQUEST, bandwidth, req.pass() == 0));
    current = copy;
    if (cancelled) copy.cancel();
    copy.run();
    doneCopied += copy.copiedBytes();
    doneSkipped += copy.skippedBytes();
    current = null;
    long copied0 = System.nanoTime();
    hashed.put(img.id(), hashWritten(img, src.virtualSize(), plan, target));
    log.info("warm copy {}: pass {} disk {}: planned in {} ms, copied in {} ms, hashed in {} ms", id, req.pass(),
        img.id(), (planned0 - startedNanos) / 1_000_000, (copied0 - planned0) / 1_000_000,
        (System.nanoTime() - copied0) / 1_000_000);
  }

  /**
   * The hashes of the chunks the pass wrote (pass 0: every chunk), read back from the new image
   * on this host: what the cutover compares with the source's own hashes of them.
   */
  private Map<Integer, String> hashWritten(AgentDisk img, long size, CopyPlan plan, Writer target)
      throws IOException, dev.ferry.nbd.NbdException {
    long chunk = chunkBytes.get(img.id());
    BitSet chunks = new BitSet();
    if (req.pass() == 0) {
      chunks.set(0, ChunkHashes.count(size, chunk));
    } else {
      chunks = ChunkHashes.touched(plan.ranges().stream().map(r -> new long[] {r.offset(), r.end()}).toList(), chunk);
    }
    Map<Integer, String> out = new HashMap<>();
    ByteBuffer buffer = ByteBuffer.allocateDirect(ChunkHashes.READ);
    if (target.socket() == null) {
      try (FileChannel f = FileChannel.open(Path.of(img.path()), StandardOpenOption.READ)) {
        for (int i = chunks.nextSetBit(0); i >= 0; i = chunks.nextSetBit(i + 1)) {
          if (cancelled) throw new CancellationException();
          out.put(i, ChunkHashes.fileChunk(f, size, i, chunk, buffer));
        }
      }
    } else {
      try (NbdClient c = NbdClient.connect(NbdAddress.unix(target.socket()), img.id(),
          List.of(MetaContexts.BASE_ALLOCATION))) {
        for (int i = chunks.nextSetBit(0); i >= 0; i = chunks.nextSetBit(i + 1)) {
          if (cancelled) throw new CancellationException();
          out.put(i, ChunkHashes.chunk(c, i, chunk, buffer));
        }
      }
    }
    return out;
  }

  /** How the pass writes a disk; the socket of its writer daemon, null for a raw file written directly. */
  private record Writer(DiskCopy.Opener<CopyTarget> opener, Path socket) {}

  private Writer writer(AgentDisk img) {
    if (img.format().equals("raw")) return new Writer(() -> new RawFileTarget(Path.of(img.path())), null);
    Path socket = writers.socket(id, images);
    return new Writer(() -> new NbdTarget(NbdClient.connect(NbdAddress.unix(socket), img.id(), List.of())), socket);
  }


  /** A daemon this pass started, stopped by pid at its end. */
  private record Started(long pid, Path pidFile, Path dir) {
    void stop() {
      try {
        NbdDaemon.stop(pid, pidFile);
      } catch (RuntimeException e) {
        log.warn("warm copy: daemon pid {} not stopped: {}", pid, e.getMessage());
      }
      ImageHashes.deleteTree(dir);
    }
  }
}
