package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.Stop;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the guest still while a {@code write-blocking} mirror job is cancelled. QEMU 7.2 corrupts
 * its heap when such a job is cancelled while guest writes are in flight through it (measured
 * with the test guest writing its disk: a segfault in {@code malloc_consolidate} under {@code
 * bdrv_co_pwritev_part} after 3 to 56 cancels; none in 230 cancels with the guest stopped around
 * the cancel, nor in 80 with {@code copy-mode: background}). {@code stop} drains the guest's
 * I/O, so the job ends with no write of the guest inside it; the pause lasts as long as the
 * cancel (in that run: median 47 ms, at most 381 ms, polling the job every 50 ms). Background
 * mode would avoid the pause but give up what write-blocking is for: a guest writing faster
 * than the copy still converges.
 *
 * <p>A marker file beside the move record, written before the {@code stop} and removed after the
 * {@code cont}, tells a repeated rollback (an agent restarted in between) that the pause is ours
 * to end; a guest paused by anyone else stays paused.
 */
final class CancelPause {

  private static final Logger log = LoggerFactory.getLogger(CancelPause.class);

  private CancelPause() {}

  static Path marker(Path vmDir, String disk) {
    return MoveStore.dir(vmDir).resolve(disk + ".paused");
  }

  /** Runs {@code cancel} with the guest stopped, if it runs; resumes it, or a guest an earlier try stopped. */
  static void around(Qmp q, Path marker, MoveRecord r, Runnable cancel) {
    long t0 = System.nanoTime();
    if (q.runState().running()) {
      touch(marker);
      q.call(new Stop());
    }
    try {
      cancel.run();
    } finally {
      if (Files.exists(marker)) {
        q.call(new Cont());
        delete(marker);
        log.info("vm {}: guest held still for {} ms while mirror job {} was cancelled", r.vm(),
            (System.nanoTime() - t0) / 1_000_000, r.jobId());
      }
    }
  }

  private static void touch(Path marker) {
    try {
      Files.createDirectories(marker.getParent());
      Files.writeString(marker, "the guest was stopped to cancel a mirror job; the rollback resumes it\n");
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot write " + marker + ": " + e.getMessage(), e);
    }
  }

  private static void delete(Path marker) {
    try {
      Files.deleteIfExists(marker);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot delete " + marker + ": " + e.getMessage(), e);
    }
  }
}
