package dev.ferry.agent.qemu.qmp;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.qmp.block.BlockJobCancel;
import dev.ferry.qmp.block.JobDismiss;
import dev.ferry.qmp.block.QueryBlockJobs;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The block jobs of one QEMU (Ferry's jobs are all mirrors), always asked with
 * {@code query-block-jobs}: it lists concluded jobs until they are dismissed, with their error,
 * and tells whether a mirror is ready and how far it got.
 */
public final class Jobs {

  private final Qmp qmp;

  Jobs(Qmp qmp) {
    this.qmp = qmp;
  }

  /** Job {@code id} as QEMU reports it now, or empty when no such job exists. */
  public Optional<BlockJobInfo> find(String id) {
    return Optional.ofNullable(byId().get(id));
  }

  /** Every block job, by id. */
  public Map<String, BlockJobInfo> byId() {
    var jobs = new LinkedHashMap<String, BlockJobInfo>();
    for (BlockJobInfo j : qmp.call(new QueryBlockJobs())) jobs.put(j.device(), j);
    return jobs;
  }

  /** Whether the job ran to its end (well or not) and only waits to be dismissed. */
  public static boolean concluded(BlockJobInfo job) {
    return job.status().equals("concluded") || job.status().equals("null");
  }

  /** The job's error, or null when it has none. */
  public static String error(BlockJobInfo job) {
    return job.error().orElse(null);
  }

  /**
   * Cancels job {@code id} unless it is gone or concluded already. Not forced, a READY mirror
   * completes without a pivot and leaves a consistent copy; forced, it leaves none.
   */
  public void cancelIfRunning(String id, boolean force) {
    Optional<BlockJobInfo> j = find(id);
    if (j.isPresent() && !concluded(j.get())) qmp.call(new BlockJobCancel(id, force));
  }

  /**
   * Waits until job {@code id} is concluded (or gone), asking again every {@code poll} and on
   * every {@code JOB_STATUS_CHANGE} of it.
   */
  public void awaitConcluded(String id, Duration deadline, Duration poll) {
    await(id, Jobs::concluded, "conclude", deadline, poll);
  }

  /** As {@link #awaitConcluded}, until the job is ready (a mirror in sync) or concluded. */
  public void awaitReady(String id, Duration deadline, Duration poll) {
    await(id, j -> j.ready() || concluded(j), "become ready", deadline, poll);
  }

  private void await(String id, java.util.function.Predicate<BlockJobInfo> done, String what, Duration deadline,
      Duration poll) {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      Optional<BlockJobInfo> j = find(id);
      if (j.isEmpty() || done.test(j.get())) return;
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AgentException(Kind.UNAVAILABLE, "block job " + id + " did not " + what + " within " + deadline
            + " (status " + j.get().status() + ")");
      }
      try {
        qmp.awaitEvent(e -> e.name().equals("JOB_STATUS_CHANGE") && e.data().path("id").asText().equals(id),
            Duration.ofNanos(Math.min(left, poll.toNanos())));
      } catch (QmpTimeoutException e) {
        // ask again
      }
    }
  }

  /** Dismisses job {@code id} if it is concluded, so its id can be used again. */
  public void dismissIfConcluded(String id) {
    Optional<BlockJobInfo> j = find(id);
    if (j.isPresent() && j.get().status().equals("concluded")) qmp.call(new JobDismiss(id));
  }
}
