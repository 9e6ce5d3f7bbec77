package dev.ferry.agent.storage;

import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.block.BlockdevMirror;
import dev.ferry.qmp.block.JobDismiss;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The QEMU side of moving a disk of a running VM: target nodes plus a {@code blockdev-mirror}
 * ({@code sync: full}, {@code copy-mode: write-blocking}, so that once ready every guest write
 * reaches both images before it completes), then either {@code block-job-complete} (pivot) or
 * {@code block-job-cancel} (roll back). Every step looks first and acts only on what is missing,
 * so a repeated call or a new agent finishes what an earlier one began.
 */
final class LiveMirror {

  private static final Logger log = LoggerFactory.getLogger(LiveMirror.class);
  static final Duration JOB_END = Duration.ofSeconds(60);
  static final Duration JOB_POLL = Duration.ofMillis(500);

  private LiveMirror() {}

  /** What QEMU says about the job of a move before its pivot. */
  sealed interface Observed {
    /** copying; {@code ready} once source and target are in sync */
    record Copying(long offset, long length, boolean ready) implements Observed {}

    /** the job ended with an error, or is gone without a pivot */
    record Failed(String error) implements Observed {}
  }

  /**
   * Creates what is missing of: the target image, its file and format nodes, the mirror job. With
   * the adaptive rate, the guest's write latency is measured just before the job starts; the
   * record returned holds it.
   */
  static MoveRecord start(Qmp q, QemuImg img, MoveRecord r, long virtualSize, String deviceId) {
    Path target = Path.of(r.targetPath());
    if (!Files.exists(target)) img.create(target, r.targetFormat(), virtualSize);
    var nodes = q.nodes().names();
    BlockNodes t = r.targetNodes();
    if (!nodes.contains(t.file())) addTargetFile(q, r);
    if (!nodes.contains(t.format())) q.nodes().addFormat(t.format(), r.targetFormat(), t.file());
    Optional<BlockJobInfo> job = q.jobs().find(r.jobId());
    if (job.isPresent() && Jobs.concluded(job.get())) {
      // a concluded job of an earlier move of this disk holds the id until it is dismissed
      q.call(new JobDismiss(r.jobId()));
      job = Optional.empty();
    }
    if (job.isEmpty()) {
      if (r.adaptiveRate()) {
        // before the mirror, or the baseline would include what the goal is about
        r = r.withBaseline(RateLoop.baseline(q, deviceId));
      }
      var mirror = new BlockdevMirror(r.jobId(), r.sourceNodes().format(), t.format(), BlockdevMirror.Sync.FULL,
          BlockdevMirror.CopyMode.WRITE_BLOCKING, false);
      long speed = r.bandwidthBytesPerS() > 0 ? r.bandwidthBytesPerS() : r.adaptiveRate() ? RateLoop.startSpeed(r) : 0;
      q.call(speed > 0 ? mirror.withSpeed(speed) : mirror);
      log.info("vm {}: mirroring disk {} ({}) to {} as job {}", r.vm(), r.disk(), r.sourceNodes().format(),
          r.targetPath(), r.jobId());
    }
    return r;
  }

  /**
   * The target's file node bypasses the host page cache: measured in {@code ferry bench storage}
   * (docs/bench/storage.md), a mirror into a page-cached target ran at a quarter of the speed of
   * one into an {@code O_DIRECT} node (qcow2 and raw alike; into a null target it reads at
   * gigabytes a second, so the buffered target writes are what held it back). After the pivot the VM keeps this node, so its disk
   * then runs uncached, as libvirt's {@code cache=none}: guest flushes are still honoured. Where
   * the file system refuses {@code O_DIRECT} (tmpfs) the target uses the page cache.
   */
  private static void addTargetFile(Qmp q, MoveRecord r) {
    try {
      q.nodes().addFile(r.targetNodes().file(), r.targetPath(), true);
    } catch (QmpException e) {
      log.info("vm {}: {} refuses O_DIRECT ({}), mirroring through the page cache", r.vm(), r.targetPath(),
          Qmp.describe(e));
      q.nodes().addFile(r.targetNodes().file(), r.targetPath(), false);
    }
  }

  static Observed observe(Qmp q, MoveRecord r) {
    Optional<BlockJobInfo> job = q.jobs().find(r.jobId());
    if (job.isEmpty()) return new Observed.Failed("mirror job " + r.jobId() + " no longer exists in qemu");
    BlockJobInfo j = job.get();
    if (j.error().isPresent()) return new Observed.Failed(Jobs.error(j));
    if (Jobs.concluded(j)) return new Observed.Failed("mirror job " + r.jobId() + " ended before the pivot");
    return new Observed.Copying(j.offset(), j.len(), j.ready());
  }

  /**
   * Rolls back in QEMU: cancels the job (forced, so a ready mirror does not complete) with the
   * guest held still ({@link CancelPause}), dismisses it, removes the target nodes. Best effort, each step on its own; the VM stays on its source.
   */
  static void rollBack(Qmp q, MoveRecord r, Path pauseMarker) {
    try {
      Optional<BlockJobInfo> job = q.jobs().find(r.jobId());
      if ((job.isPresent() && !Jobs.concluded(job.get())) || Files.exists(pauseMarker)) {
        CancelPause.around(q, pauseMarker, r, () -> {
          q.jobs().cancelIfRunning(r.jobId(), true);
          q.jobs().awaitConcluded(r.jobId(), JOB_END, JOB_POLL);
        });
      }
      q.jobs().dismissIfConcluded(r.jobId());
    } catch (QmpException | dev.ferry.agent.AgentException e) {
      log.warn("vm {}: cannot end mirror job {}: {}", r.vm(), r.jobId(), e.getMessage());
    }
    deleteNodes(q, r, r.targetNodes());
  }

  /** Removes a disk's format node, then its file node, if present. */
  static void deleteNodes(Qmp q, MoveRecord r, BlockNodes nodes) {
    for (String node : new String[] {nodes.format(), nodes.file()}) {
      try {
        q.nodes().deleteIfPresent(node);
      } catch (QmpException e) {
        log.warn("vm {}: cannot remove block node {}: {}", r.vm(), node, Qmp.describe(e));
      }
    }
  }
}
