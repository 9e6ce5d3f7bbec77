package dev.ferry.agent.cold;

import dev.ferry.agent.AgentException;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdCopyStatus;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.nbd.MetaContexts;
import dev.ferry.nbd.NbdAddress;
import dev.ferry.nbd.NbdClient;
import dev.ferry.nbd.copy.CopyPlan;
import dev.ferry.nbd.copy.CopyRange;
import dev.ferry.nbd.copy.CopyTarget;
import dev.ferry.nbd.copy.DiskCopy;
import dev.ferry.nbd.copy.NbdTarget;
import dev.ferry.nbd.copy.RawFileTarget;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One target's pull of a VM's disks, disk by disk, on a thread of its own.
 *
 * <p>The source: over TLS, a local {@code qemu-storage-daemon} relays the source's exports on a
 * private UNIX socket (QEMU's NBD client does the TLS, with the host's certificate); without TLS,
 * Ferry's client dials the source directly. Either way the copier reads with
 * {@link DiskCopy.Options#forDirectWrites()} (4 connections, 2 MiB requests, 2 in flight on each)
 * where the target's file system takes direct writes, else {@link DiskCopy.Options#defaults()},
 * planned from {@code base:allocation}: zero ranges are never read, sent or written (the new
 * image reads as zero).
 *
 * <p>The target writer by format, both past the page cache where they can: raw is written with
 * positional file writes (holes stay holes, no QEMU needed); qcow2 through a local writable
 * {@code qemu-storage-daemon} export of the new image ({@code cache.direct=on}) (QEMU's block layer allocates the clusters; each copy worker writes on a connection of its own). Not
 * {@code qemu-img convert} from a raw temporary: that needs the disk's space twice and reads
 * everything a second time.
 */
final class ColdPull {

  private static final Logger log = LoggerFactory.getLogger(ColdPull.class);

  private final String id;
  private final ColdCopyRequest req;
  private final List<AgentDisk> images;
  private final Path daemon;
  private final Path tlsDir;
  private final boolean corrupt;
  private final Consumer<ColdPull> onEnd;
  private final Thread thread;
  private volatile DiskCopy current;
  private volatile boolean cancelled;
  private volatile long doneCopied;
  private volatile long doneSkipped;
  private volatile long planned;
  private volatile String outcome = ColdCopyStatus.COPYING;
  private volatile String error;

  ColdPull(String id, ColdCopyRequest req, List<AgentDisk> images, Path daemon, Path tlsDir, boolean corrupt,
      Consumer<ColdPull> onEnd) {
    this.id = id;
    this.req = req;
    this.images = images;
    this.daemon = daemon;
    this.tlsDir = tlsDir;
    this.corrupt = corrupt;
    this.onEnd = onEnd;
    this.thread = Thread.ofPlatform().name("ferry-cold-" + id.substring(0, 8)).unstarted(this::run);
  }

  String id() {
    return id;
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

  String outcome() {
    return outcome;
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
    long t0 = System.nanoTime();
    List<Daemon> daemons = new ArrayList<>();
    try {
      NbdAddress source = source(daemons);
      for (AgentDisk img : images) {
        if (cancelled) throw new CancellationException();
        ColdExport.ColdExportDisk src = req.source().disks().stream().filter(d -> d.disk().equals(img.id()))
            .findFirst().orElseThrow();
        copyDisk(source, src, img, daemons);
      }
      outcome = ColdCopyStatus.COPIED;
      long ms = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
      log.info("cold copy {}: {} bytes copied, {} skipped in {} ms ({} MiB/s)", id, doneCopied, doneSkipped, ms,
          String.format("%.1f", doneCopied / 1048576.0 / (ms / 1000.0)));
    } catch (CancellationException e) {
      outcome = ColdCopyStatus.CANCELLED;
    } catch (Exception e) {
      outcome = cancelled ? ColdCopyStatus.CANCELLED : ColdCopyStatus.FAILED;
      error = e.getMessage() == null ? e.toString() : e.getMessage();
      log.warn("cold copy {}: {}", id, error, e);
    } finally {
      for (Daemon d : daemons) d.stop();
      for (Daemon d : daemons) ImageHashes.deleteTree(d.dir());
      onEnd.accept(this);
    }
  }

  private NbdAddress source(List<Daemon> daemons) {
    ColdExport src = req.source();
    if (!src.tls()) return NbdAddress.tcp(src.host(), src.port());
    Path tmp = ImageHashes.privateDir();
    Path socket = tmp.resolve("relay.sock");
    Path pidFile = tmp.resolve("relay.pid");
    List<NbdDaemon.Remote> remotes = src.disks().stream()
        .map(d -> new NbdDaemon.Remote(d.export(), src.host(), src.port())).toList();
    Process p = NbdDaemon.start(NbdDaemon.relay(daemon, pidFile, socket, remotes, tlsDir),
        new NbdDaemon.Listen.Unix(socket), tmp.resolve("relay.log"));
    daemons.add(new Daemon(p.pid(), pidFile, tmp));
    return NbdAddress.unix(socket);
  }

  private void copyDisk(NbdAddress source, ColdExport.ColdExportDisk src, AgentDisk img, List<Daemon> daemons)
      throws Exception {
    CopyPlan plan;
    try (NbdClient probe = open(source, src.export())) {
      if (probe.size() != src.virtualSize()) {
        throw new AgentException(AgentException.Kind.CONFLICT, "disk " + img.id() + ": the export has "
            + probe.size() + " bytes, the source said " + src.virtualSize());
      }
      plan = CopyPlan.fromAllocation(probe.size(), probe.blockStatus(0, probe.size(), MetaContexts.BASE_ALLOCATION));
    }
    planned += plan.dataBytes();
    DiskCopy.Opener<CopyTarget> target = writer(img, daemons);
    DiskCopy.Options options = RawFileTarget.directWrites(Path.of(img.path())) ? DiskCopy.Options.forDirectWrites()
        : DiskCopy.Options.defaults();
    DiskCopy copy = new DiskCopy(plan, () -> open(source, src.export()), target,
        withBandwidth(options, req.bandwidthBytes()));
    current = copy;
    if (cancelled) copy.cancel();
    copy.run();
    if (corrupt) corruptOneBlock(plan, target, img);
    doneCopied += copy.copiedBytes();
    doneSkipped += copy.skippedBytes();
    current = null;
  }

  /** The test hook: 4 KiB of the first data range overwritten after the copy, as a bad disk or link would. */
  private void corruptOneBlock(CopyPlan plan, DiskCopy.Opener<CopyTarget> target, AgentDisk img) throws Exception {
    long at = plan.ranges().stream().filter(r -> !r.zero()).mapToLong(CopyRange::offset).findFirst().orElse(0);
    try (CopyTarget t = target.open()) {
      ByteBuffer junk = ByteBuffer.allocate(4096);
      while (junk.hasRemaining()) junk.put((byte) 0xA5);
      t.write(at, junk.flip());
      t.flush();
    }
    log.warn("cold copy {}: test hook {} corrupted 4096 bytes of disk {} at offset {}", id, ColdCopies.CORRUPT_POINT,
        img.id(), at);
  }

  private DiskCopy.Opener<CopyTarget> writer(AgentDisk img, List<Daemon> daemons) {
    if (img.format().equals("raw")) return () -> new RawFileTarget(Path.of(img.path()));
    Path tmp = ImageHashes.privateDir();
    Path socket = tmp.resolve("w.sock");
    Path pidFile = tmp.resolve("w.pid");
    // past the page cache where the file system allows it, in the copier's large writes (see
    // NbdTarget.local): a qcow2's copy as fast as a raw one's, about
    boolean direct = RawFileTarget.directWrites(Path.of(img.path()));
    Process p = NbdDaemon.start(NbdDaemon.serve(daemon, pidFile, new NbdDaemon.Listen.Unix(socket),
        List.of(new NbdDaemon.Image("disk", Path.of(img.path()), img.format(), true, direct)), null),
        new NbdDaemon.Listen.Unix(socket), tmp.resolve("w.log"));
    daemons.add(new Daemon(p.pid(), pidFile, tmp));
    int maxWrite = direct ? DiskCopy.Options.forDirectWrites().requestSize() : NbdTarget.LOCAL_WRITE_PIECE;
    return () -> NbdTarget.local(NbdAddress.unix(socket), "disk", maxWrite);
  }

  private static DiskCopy.Options withBandwidth(DiskCopy.Options o, long bytesPerSecond) {
    return new DiskCopy.Options(o.connections(), o.requestSize(), bytesPerSecond, o.targetIsZero(), o.inFlight());
  }

  private static NbdClient open(NbdAddress at, String export) {
    return NbdClient.connect(at, export, List.of(MetaContexts.BASE_ALLOCATION));
  }

  /** A daemon this pull started, stopped by pid at its end. */
  private record Daemon(long pid, Path pidFile, Path dir) {
    void stop() {
      try {
        NbdDaemon.stop(pid, pidFile);
      } catch (RuntimeException e) {
        log.warn("cold copy: daemon pid {} not stopped: {}", pid, e.getMessage());
      }
    }
  }
}
