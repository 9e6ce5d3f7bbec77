package dev.ferry.agent.storage;

import dev.ferry.agent.qemu.qmp.Jobs;
import dev.ferry.agent.qemu.qmp.Qmp;
import dev.ferry.qmp.block.BlockJobSetSpeed;
import dev.ferry.qmp.block.QueryBlockJobs.BlockJobInfo;
import dev.ferry.qmp.block.QueryBlockstats;
import dev.ferry.qmp.block.QueryBlockstats.BlockStats;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The adaptive rate of live mirrors: one thread per mirror that, every {@link #STEP}, reads the
 * guest device's write counters ({@code query-blockstats}), asks {@link AdaptiveRate} for the next
 * speed and sets it with {@code block-job-set-speed} when it changed. It ends when the job is
 * ready (source and target in sync: write-blocking guest writes then reach both images whatever the
 * speed), has ended or failed, or QEMU is gone. A restarted agent starts it again from the
 * baseline the move's record keeps ({@link #ensure}).
 */
final class RateLoop {

  private static final Logger log = LoggerFactory.getLogger(RateLoop.class);
  /** how often the law looks: the guest of the bench writes 64 times a second, 32 writes a step */
  static final Duration STEP = Duration.ofMillis(500);
  /** how long the guest's writes are watched for the baseline, just before the mirror starts */
  static final Duration BASELINE = Duration.ofSeconds(1);
  /** 2 GiB copied within ~2 min at worst: the mirror is never starved below this */
  static final long FLOOR = 16L << 20;
  /** above what a mirror reached here (~1.6 GiB/s); at the ceiling QEMU's limit is lifted */
  static final long CEILING = 2048L << 20;

  private final Map<String, Thread> running = new ConcurrentHashMap<>();
  /** loops that ran to their end: a status read between ready and pivot must not start another */
  private final Set<String> ended = ConcurrentHashMap.newKeySet();

  /** The guest device's cumulative write counters; empty when QEMU lists no such device. */
  static Optional<BlockStats> counters(Qmp q, String deviceId) {
    for (BlockStats s : q.call(new QueryBlockstats())) {
      String qdev = s.qdev().orElse("");
      if (qdev.equals(deviceId) || qdev.startsWith("/machine/peripheral/" + deviceId + "/")) return Optional.of(s);
    }
    return Optional.empty();
  }

  /**
   * The guest's mean write latency over {@link #BASELINE}, nanoseconds; 0 when it wrote fewer than
   * {@link AdaptiveRate#MIN_WRITES} times (then the mirror has no latency goal to keep).
   */
  static long baseline(Qmp q, String deviceId) {
    Optional<BlockStats> a = counters(q, deviceId);
    if (a.isEmpty()) return 0;
    try {
      Thread.sleep(BASELINE.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
    Optional<BlockStats> b = counters(q, deviceId);
    if (b.isEmpty()) return 0;
    var s = AdaptiveRate.Sample.between(a.get().wrOperations(), a.get().wrTotalTimeNs(), b.get().wrOperations(),
        b.get().wrTotalTimeNs());
    return s.writes() < AdaptiveRate.MIN_WRITES ? 0 : Math.max(1, (long) s.meanNs());
  }

  /** The speed an adaptive mirror starts with, for QEMU ({@code 0}: no limit); the loop's first speed too. */
  static long startSpeed(MoveRecord r) {
    var law = new AdaptiveRate(r.baselineWriteNs(), FLOOR, CEILING);
    return law.qemuSpeed(law.start());
  }

  /** Starts the loop of {@code r}'s mirror unless it runs already. */
  void ensure(Qmp q, MoveRecord r, String deviceId) {
    if (!r.adaptiveRate() || r.mode() != MoveRecord.Mode.LIVE || r.phase() != MovePhase.COPYING) return;
    // the suffix tells one move of a disk from the next, which reuses the job id in the same QEMU
    String key = r.vm() + "/" + r.disk() + "/" + r.suffix() + "/" + r.qemuPid();
    if (ended.contains(key)) return;
    running.computeIfAbsent(key, k -> Thread.ofVirtual().name("ferry-rate-" + r.vm() + "-" + r.disk())
        .start(() -> {
          try {
            run(q, r, deviceId);
          } finally {
            ended.add(k);
            running.remove(k);
          }
        }));
  }

  private void run(Qmp q, MoveRecord r, String deviceId) {
    var law = new AdaptiveRate(r.baselineWriteNs(), FLOOR, CEILING);
    long speed = law.start();
    log.info("vm {}: disk {}: adaptive rate for job {}: guest write latency before the mirror {} us, goal {}x,"
        + " floor {} MiB/s", r.vm(), r.disk(), r.jobId(), r.baselineWriteNs() / 1000, AdaptiveRate.TARGET, FLOOR >> 20);
    try {
      Optional<BlockStats> last = counters(q, deviceId);
      long[] offsets = {-1, -1};
      long[] times = {0, 0};
      while (true) {
        Thread.sleep(STEP.toMillis());
        Optional<BlockJobInfo> job = q.jobs().find(r.jobId());
        if (job.isEmpty() || Jobs.concluded(job.get()) || job.get().ready() || job.get().error().isPresent()) break;
        // over two steps: the job copies in chunks of up to 16 MiB, so under a low limit one step
        // sees a chunk and the next none (measured at 16 MiB/s: 33-35, then 3-4 MiB/s)
        long at = System.nanoTime();
        long copiedPerS = offsets[0] < 0 || job.get().offset() < offsets[0] ? -1
            : (long) ((job.get().offset() - offsets[0]) * 1e9 / Math.max(1, at - times[0]));
        offsets[0] = offsets[1];
        times[0] = times[1];
        offsets[1] = job.get().offset();
        times[1] = at;
        Optional<BlockStats> now = counters(q, deviceId);
        var sample = last.isEmpty() || now.isEmpty() ? new AdaptiveRate.Sample(0, 0)
            : AdaptiveRate.Sample.between(last.get().wrOperations(), last.get().wrTotalTimeNs(),
                now.get().wrOperations(), now.get().wrTotalTimeNs());
        last = now;
        long next = law.next(speed, sample, copiedPerS);
        if (law.qemuSpeed(next) != law.qemuSpeed(speed)) {
          q.call(new BlockJobSetSpeed(r.jobId(), law.qemuSpeed(next)));
        }
        log.debug("vm {}: disk {}: {} writes of {} us, copied {} MiB/s: speed {} -> {} MiB/s", r.vm(), r.disk(),
            sample.writes(), (long) sample.meanNs() / 1000, copiedPerS >> 20, speed >> 20, next >> 20);
        speed = next;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      // the job or QEMU ended under the loop; the move's own steps observe and report that
      log.info("vm {}: disk {}: adaptive rate for job {} ends: {}", r.vm(), r.disk(), r.jobId(), Qmp.describe(e));
    }
  }
}
