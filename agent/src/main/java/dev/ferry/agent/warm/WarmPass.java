package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.WarmPassCopy;
import dev.ferry.api.tls.TlsContexts;
import dev.ferry.api.tls.TlsDir;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.NbdOptions;
import dev.ferry.nbd.NbdTls;
import dev.ferry.nbd.copy.CopyPlan;
import dev.ferry.nbd.copy.CopyTarget;
import dev.ferry.nbd.copy.DiskCopy;
import dev.ferry.nbd.copy.NbdTarget;
import dev.ferry.nbd.copy.RawFileTarget;
import dev.ferry.nbd.copy.ChunkHashes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of a warm copy, disk by disk, on a thread of its own, with Ferry's copier (up to 4
 * connections, fewer for a small pass, 4 MiB requests, the shared bandwidth cap).
 *
 * <p>The plan: pass 0 copies what {@code base:allocation} says is data (the new image reads as
 * zero elsewhere); a later pass copies only the ranges the pass's dirty bitmap marks, each split
 * by {@code base:allocation} into data (sent) and zeroes (zeroed on the target, not sent).
 *
 * <p>Ferry's client reads the source QEMU's exports directly, the bitmap as the metadata context
 * {@code qemu:dirty-bitmap:NAME}; with TLS it upgrades each connection itself
 * ({@code NBD_OPT_STARTTLS}, this host's client certificate, the source's certificate checked
 * for the source address). A {@code qemu-storage-daemon} relay did the TLS before, and took
 * ~470 ms to become ready on every pass, the final one (the cutover's downtime) included.
 */
final class WarmPass {

  private static final Logger log = LoggerFactory.getLogger(WarmPass.class);
  private static final int CONNECTIONS = 4;
  private static final int REQUEST = 4 << 20;

  private final String id;
  private final WarmPassCopy req;
  private final List<AgentDisk> images;
  private final long bandwidth;
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

  WarmPass(String id, WarmPassCopy req, List<AgentDisk> images, long bandwidth, Path tlsDir,
      Map<String, Long> chunkBytes, WarmWriters writers, Consumer<WarmPass> onEnd) {
    this.chunkBytes = chunkBytes;
    this.writers = writers;
    this.id = id;
    this.req = req;
    this.images = images;
    this.bandwidth = bandwidth;
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

  /** The cutover's final pass: the images go to the VM after it. */
  boolean last() {
    return req.last();
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
    try {
      NbdAddress source = NbdAddress.tcp(req.source().host(), req.source().port());
      NbdOptions options = options(req.source(), tlsDir);
      for (AgentDisk img : images) {
        if (cancelled) throw new CancellationException();
        ColdExport.ColdExportDisk src = req.source().disks().stream().filter(d -> d.disk().equals(img.id()))
            .findFirst().orElseThrow(() -> AgentException.badInput("source", img.id(), "an export of every disk"));
        copyDisk(source, options, src, img);
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
      onEnd.accept(this);
    }
  }

  /**
   * How to connect to {@code src}: over TLS, with this host's client certificate and the source
   * address as the name its server certificate must carry (as QEMU's {@code tls-hostname}), when
   * the source's server requires it. One context for all of a pass's connections, so they can
   * resume its TLS session.
   */
  static NbdOptions options(ColdExport src, Path tlsDir) {
    if (!src.tls()) return NbdOptions.defaults();
    if (tlsDir == null) {
      throw new AgentException(AgentException.Kind.CONFLICT,
          "the source serves over tls, but this agent has no tls directory");
    }
    return NbdOptions.defaults().withTls(new NbdTls(TlsContexts.client(new TlsDir(tlsDir)), src.host()));
  }

  private void copyDisk(NbdAddress source, NbdOptions options, ColdExport.ColdExportDisk src, AgentDisk img)
      throws Exception {
    CopyPlan plan = req.bitmap() == null ? PassPlan.whole(source, src.export(), src.virtualSize(), img.id(), options)
        : PassPlan.dirty(source, src.export(), src.virtualSize(), img.id(), req.bitmap(), options);
    planned += plan.dataBytes();
    long planned0 = System.nanoTime();
    Writer target = writer(img);
    // pass 0 writes into a new image (reads as zero); later passes must zero what the guest zeroed
    DiskCopy copy = new DiskCopy(plan, () -> NbdClient.connect(source, src.export(),
        List.of(MetaContexts.BASE_ALLOCATION), options), target.opener(),
        new DiskCopy.Options(connections(plan.dataBytes()), REQUEST, bandwidth, req.pass() == 0));
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
   * Connections for {@code dataBytes}: each one's set-up is several round trips with the source's
   * server and the writer's, which a small pass (the final one moves ~1 MiB while the guest is
   * down) does not win back; one connection keeps 8 requests in flight.
   */
  static int connections(long dataBytes) {
    return (int) Math.max(1, Math.min(CONNECTIONS, dataBytes / (2L * REQUEST)));
  }

  /**
   * The hashes of the chunks the pass wrote (pass 0: every chunk), read back from the new image
   * on this host: what the cutover compares with the source's own hashes of them.
   */
  private Map<Integer, String> hashWritten(AgentDisk img, long size, CopyPlan plan, Writer target)
      throws IOException, dev.ferry.nbd.NbdException, InterruptedException {
    long chunk = chunkBytes.get(img.id());
    BitSet chunks = new BitSet();
    if (req.pass() == 0) {
      chunks.set(0, ChunkHashes.count(size, chunk));
    } else {
      chunks = ChunkHashes.touched(plan.ranges().stream().map(r -> new long[] {r.offset(), r.end()}).toList(), chunk);
    }
    return new HashMap<>(WrittenChunks.hash(chunks, size, chunk, Path.of(img.path()), target.socket(), img.id(),
        () -> cancelled));
  }

  /** How the pass writes a disk; the socket of its writer daemon, null for a raw file written directly. */
  private record Writer(DiskCopy.Opener<CopyTarget> opener, Path socket) {}

  private Writer writer(AgentDisk img) {
    // through the page cache: every pass reads back the chunks it wrote to hash them, and a final
    // pass's read-back from the disk would be downtime
    if (img.format().equals("raw")) return new Writer(() -> new RawFileTarget(Path.of(img.path()), false), null);
    Path socket = writers.socket(id, images);
    return new Writer(() -> NbdTarget.local(NbdAddress.unix(socket), img.id()), socket);
  }
}
