package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.block.BlockJobComplete;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.block.BlockdevMirror;
import dev.ferry.qmp.block.JobDismiss;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpEvent;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A VM's QEMU started before its disks may be opened. A warm cutover starts the target's QEMU,
 * paused, while the guest still runs on the source and the passes still write the target's images
 * (through {@code qemu-storage-daemon}, which holds them; QEMU refuses a writable export of a node
 * one of its devices holds, so the last pass cannot go through the staged QEMU instead). Each
 * device starts on a {@code raw} node ({@code <id>-staged}) over a {@code null-co} placeholder of
 * the disk's size. {@link #attach} adds the image's nodes under the names a plain start gives them
 * and moves the device onto them with a mirror that copies nothing ({@code sync: none}: the guest
 * never ran, so there is no write to carry) and then replaces its source, as QEMU 7.2 cannot
 * re-point a device otherwise. The staged nodes are deleted after: the block graph is then the one
 * a plain start makes, and every later block operation (mirror, bitmap, export) finds it so.
 *
 * <p>The placeholders stay until {@link #release}, just before the guest's first boot: they mark
 * a QEMU whose images are attached but whose guest never ran (a cutover attaches while it still
 * verifies, and resumes only past its point of no return), and QEMU keeps that mark across an
 * agent restart, as it keeps the staged nodes.
 */
public final class StagedDisks {

  private static final Duration JOB_END = Duration.ofSeconds(30);
  private static final Duration JOB_POLL = Duration.ofMillis(5);
  /** {@code JOB_STATUS_CHANGE} states after which a fresh attach job goes on or has ended */
  private static final Set<String> READY_OR_ENDED = Set.of("ready", "aborting", "concluded", "null");

  private StagedDisks() {}

  /** The command line's nodes for disks of the given virtual sizes (by disk id). */
  public static DiskLayout layout(Map<String, Long> sizes) {
    return disk -> {
      Long size = sizes.get(disk.id());
      if (size == null || size <= 0) throw new IllegalArgumentException("no size for staged disk " + disk.id());
      var placeholder = new LinkedHashMap<String, Object>();
      placeholder.put("driver", "null-co");
      placeholder.put("node-name", placeholder(disk));
      placeholder.put("size", size);
      placeholder.put("read-zeroes", true);
      var shim = new LinkedHashMap<String, Object>();
      shim.put("driver", "raw");
      shim.put("node-name", shim(disk));
      shim.put("file", placeholder(disk));
      return List.of(placeholder, shim);
    };
  }

  /** Whether the QEMU behind {@code qmp} was staged and its guest never ran: disks waiting or attached, not released. */
  public static boolean waiting(Qmp qmp, VmSpec spec) {
    Set<String> names = qmp.nodes().names();
    return spec.disks().stream().anyMatch(d -> names.contains(shim(d)) || names.contains(placeholder(d)));
  }

  /**
   * Puts each disk's image under its device. Each step looks first, so a repeat after a failure
   * part-way goes on where it stopped. The images must be free (no other process writing them);
   * the guest must not have run.
   */
  public static void attach(Qmp qmp, VmSpec spec) {
    Set<String> names = qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (!names.contains(shim(d))) continue;
      // the cutover waits on each round trip here: a format node added just now has no job and no device on it
      boolean fresh = !names.contains(d.formatNode());
      if (!names.contains(d.fileNode())) qmp.nodes().addFile(d.fileNode(), d.path());
      String job = d.id() + "-attach";
      if (fresh) {
        qmp.nodes().addFormat(d.formatNode(), d.format().driver(), d.fileNode());
        moveFresh(qmp, d, job);
        continue;
      }
      boolean started = qmp.jobs().find(job).isEmpty()
          && !d.formatNode().equals(qmp.nodes().ofDevice(d.deviceId()).orElse(null));
      if (started) {
        qmp.call(new BlockdevMirror(job, shim(d), d.formatNode(), BlockdevMirror.Sync.NONE,
            BlockdevMirror.CopyMode.BACKGROUND, false));
      }
      if (started || qmp.jobs().find(job).isPresent()) {
        qmp.jobs().awaitReady(job, JOB_END, JOB_POLL);
        if (qmp.jobs().find(job).filter(j -> !Jobs.concluded(j)).isPresent()) qmp.call(new BlockJobComplete(job));
        qmp.jobs().awaitConcluded(job, JOB_END, JOB_POLL);
        Optional<BlockJobInfo> end = qmp.jobs().find(job);
        String error = end.map(Jobs::error).orElse(null);
        if (end.filter(j -> j.status().equals("concluded")).isPresent()) qmp.call(new JobDismiss(job));
        if (error != null) {
          throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": moving its device onto " + d.path()
              + " failed: " + error);
        }
      }
      requireMoved(qmp, d);
      qmp.call(new BlockdevDel(shim(d)));
    }
  }

  /**
   * The device onto a format node added just now, driven by the job's events rather than by
   * asking for its state: each question is a round trip of the cutover's downtime (12 of them
   * took 36-42 ms on a loaded 2-core host, against 5 here). The job dismisses itself; its
   * {@code BLOCK_JOB_COMPLETED} carries any error. The shim's deletion proves the move: QEMU
   * refuses to delete a node a device still uses.
   */
  private static void moveFresh(Qmp qmp, DiskSpec d, String job) {
    qmp.call(new BlockdevMirror(job, shim(d), d.formatNode(), BlockdevMirror.Sync.NONE,
        BlockdevMirror.CopyMode.BACKGROUND, true));
    // sync none has nothing to copy: the job is ready (or failed) at once
    QmpEvent state = qmp.awaitEvent(e -> e.name().equals("JOB_STATUS_CHANGE") && e.data().path("id").asText()
        .equals(job) && READY_OR_ENDED.contains(e.data().path("status").asText()), JOB_END);
    if (state.data().path("status").asText().equals("ready")) qmp.call(new BlockJobComplete(job));
    QmpEvent end = qmp.awaitEvent(e -> (e.name().equals("BLOCK_JOB_COMPLETED") || e.name().equals(
        "BLOCK_JOB_CANCELLED")) && e.data().path("device").asText().equals(job), JOB_END);
    String error = end.name().equals("BLOCK_JOB_CANCELLED") ? "the job was cancelled"
        : end.data().hasNonNull("error") ? end.data().get("error").asText() : null;
    if (error != null) {
      throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": moving its device onto " + d.path()
          + " failed: " + error);
    }
    try {
      qmp.call(new BlockdevDel(shim(d)));
    } catch (QmpErrorException e) {
      requireMoved(qmp, d);
      throw e;
    }
  }

  private static void requireMoved(Qmp qmp, DiskSpec d) {
    String now = qmp.nodes().ofDevice(d.deviceId()).orElse(null);
    if (!d.formatNode().equals(now)) {
      throw new AgentException(Kind.CONFLICT, "disk " + d.id() + ": its device uses node " + now + ", not "
          + d.formatNode() + " (" + d.path() + "), after the staged disk was attached");
    }
  }

  /**
   * Deletes the placeholders {@link #attach} left, once the guest runs: they belong to no device,
   * so this is no part of the guest's downtime. Idempotent.
   */
  public static void release(Qmp qmp, VmSpec spec) {
    Set<String> names = qmp.nodes().names();
    for (DiskSpec d : spec.disks()) {
      if (names.contains(shim(d))) {
        throw new AgentException(Kind.CONFLICT, "disk " + d.id() + " is still staged (node " + shim(d) + "); attach it first");
      }
      if (names.contains(placeholder(d))) qmp.call(new BlockdevDel(placeholder(d)));
    }
  }

  private static String shim(DiskSpec disk) {
    return disk.id() + "-staged";
  }

  private static String placeholder(DiskSpec disk) {
    return disk.id() + "-placeholder";
  }
}
