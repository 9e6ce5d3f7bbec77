package dev.ferry.agent.storage;

import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.qmp.QmpException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

  private LiveMirror() {}

  /** What QEMU says about the job of a move before its pivot. */
  sealed interface Observed {
    /** copying; {@code ready} once source and target are in sync */
    record Copying(long offset, long length, boolean ready) implements Observed {}

    /** the job ended with an error, or is gone without a pivot */
    record Failed(String error) implements Observed {}
  }

  /** Creates what is missing of: the target image, its file and format nodes, the mirror job. */
  static void start(BlockQmp q, QemuImg img, MoveRecord r, long virtualSize) {
    Path target = Path.of(r.targetPath());
    if (!Files.exists(target)) img.create(target, r.targetFormat(), virtualSize);
    var nodes = q.nodeNames();
    BlockNodes t = r.targetNodes();
    if (!nodes.contains(t.file())) q.addFileNode(t.file(), r.targetPath());
    if (!nodes.contains(t.format())) q.addFormatNode(t.format(), r.targetFormat(), t.file());
    Optional<BlockQmp.Job> job = q.job(r.jobId());
    if (job.isPresent() && job.get().concluded()) {
      // a concluded job of an earlier move of this disk holds the id until it is dismissed
      q.call("job-dismiss", Map.of("id", r.jobId()));
      job = Optional.empty();
    }
    if (job.isEmpty()) {
      q.mirror(r.jobId(), r.sourceNodes().format(), t.format(), r.bandwidthBytesPerS());
      log.info("vm {}: mirroring disk {} ({}) to {} as job {}", r.vm(), r.disk(), r.sourceNodes().format(),
          r.targetPath(), r.jobId());
    }
  }

  static Observed observe(BlockQmp q, MoveRecord r) {
    Optional<BlockQmp.Job> job = q.job(r.jobId());
    if (job.isEmpty()) return new Observed.Failed("mirror job " + r.jobId() + " no longer exists in qemu");
    BlockQmp.Job j = job.get();
    if (j.error() != null) return new Observed.Failed(j.error());
    if (j.concluded()) return new Observed.Failed("mirror job " + r.jobId() + " ended before the pivot");
    return new Observed.Copying(j.offset(), j.length(), j.ready());
  }

  /**
   * Rolls back in QEMU: cancels the job (forced, so a ready mirror does not complete), dismisses
   * it, removes the target nodes. Best effort, each step on its own; the VM stays on its source.
   */
  static void rollBack(BlockQmp q, MoveRecord r) {
    try {
      Optional<BlockQmp.Job> job = q.job(r.jobId());
      if (job.isPresent() && !job.get().concluded()) {
        q.call("block-job-cancel", Map.of("device", r.jobId(), "force", true));
      }
      q.awaitConcluded(r.jobId(), JOB_END);
      q.dismissIfConcluded(r.jobId());
    } catch (QmpException | dev.ferry.agent.AgentException e) {
      log.warn("vm {}: cannot end mirror job {}: {}", r.vm(), r.jobId(), e.getMessage());
    }
    deleteNodes(q, r, r.targetNodes());
  }

  /** Removes a disk's format node, then its file node, if present. */
  static void deleteNodes(BlockQmp q, MoveRecord r, BlockNodes nodes) {
    for (String node : new String[] {nodes.format(), nodes.file()}) {
      try {
        q.deleteNodeIfPresent(node);
      } catch (QmpException e) {
        log.warn("vm {}: cannot remove block node {}: {}", r.vm(), node, BlockQmp.describe(e));
      }
    }
  }
}
