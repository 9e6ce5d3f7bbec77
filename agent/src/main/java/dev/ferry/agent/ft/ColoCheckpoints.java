package dev.ferry.agent.ft;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A COLO primary's checkpoints, counted from its {@code STOP}/{@code RESUME} events: each
 * checkpoint pauses the guest and resumes it, and {@code query-migrate} says only {@code colo}
 * (colo.md). The pause is the time between the two events, as QEMU stamped them. Fed from the QMP
 * event thread, read by status requests: every method is synchronized.
 */
public final class ColoCheckpoints {

  /** the window of {@link Summary#pauseMedianMs} and {@link Summary#pauseMaxMs} */
  static final Duration WINDOW = Duration.ofMinutes(1);

  /** What a status shows; pause figures are null before the first checkpoint in the window. */
  public record Summary(long checkpoints, Long pauseMedianMs, Long pauseMaxMs, Instant lastCheckpointAt) {}

  private record Pause(Instant at, long ms) {}

  private final Deque<Pause> recent = new ArrayDeque<>();
  private long count;
  private Instant stoppedAt;
  private Instant last;

  /** The guest stopped (a checkpoint begins). */
  public synchronized void stopped(Instant at) {
    stoppedAt = at;
  }

  /** The guest resumed: if a stop was seen, one checkpoint ended. */
  public synchronized void resumed(Instant at) {
    if (stoppedAt == null) return;
    long ms = Math.max(0, Duration.between(stoppedAt, at).toMillis());
    stoppedAt = null;
    count++;
    last = at;
    recent.addLast(new Pause(at, ms));
    while (recent.size() > 10_000) recent.removeFirst();
  }

  public synchronized Summary summary(Instant now) {
    while (!recent.isEmpty() && recent.peekFirst().at().isBefore(now.minus(WINDOW))) recent.removeFirst();
    if (recent.isEmpty()) return new Summary(count, null, null, last);
    List<Long> ms = new ArrayList<>(recent.stream().map(Pause::ms).toList());
    ms.sort(null);
    return new Summary(count, ms.get(ms.size() / 2), ms.getLast(), last);
  }
}
