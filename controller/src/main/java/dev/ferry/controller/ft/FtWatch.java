package dev.ferry.controller.ft;

import dev.ferry.api.agent.FtPrimaryStatus;
import dev.ferry.api.agent.FtSecondaryHeartbeat;
import java.time.Duration;
import java.time.Instant;

/**
 * Who fails over, decided by the controller from one round of looking at both agents (docs/ft.md,
 * failure detection). The primary's fencer (a process of its own that outlives its agent) heartbeats
 * the secondary's agent every 100 ms while the primary QEMU runs; the secondary's agent says what it
 * hears and whether the primary QEMU's COLO connection still stands, the primary's agent what its
 * fencer hears of the secondary. The controller is the tiebreaker: a secondary never takes over on its own,
 * and a primary the controller still reaches is never replaced.
 *
 * <ul>
 *   <li>primary reached, its QEMU gone or fenced: the secondary takes over;
 *   <li>primary unreached, its COLO connection closed by its kernel: its QEMU is dead, take over at
 *       once (nothing left there to fence);
 *   <li>primary unreached, connection still up (a dead or cut-off host sends no FIN), its fencer
 *       heard before and silent for {@link #HOST_SILENCE}, its agent unreached as long: take over.
 *       The fencer heartbeats through an agent restart, so its silence means the host is gone or
 *       cut off, or the QEMU stopped (fenced) or dead; it fences the guest after
 *       {@code Fencer.FENCE_AFTER} (500 ms) without hearing the secondary or the controller, before;
 *   <li>the same without a fencer ever heard (it could not start): only after {@link #guard} with no
 *       checkpoint either (a primary whose agent merely restarts keeps checkpointing, and is left
 *       alone);
 *   <li>primary reached, secondary gone, or unreached for 3 s with no checkpoint completing for the
 *       guard (an agent that restarts leaves its QEMU loading checkpoints), or the path between them cut
 *       (each side silent for the guard): the primary runs on, unprotected.
 * </ul>
 */
final class FtWatch {

  /** the secondary's QEMU is dead when its COLO connection is closed and no heartbeat came for this long */
  static final Duration CLOSED_SILENCE = Duration.ofMillis(200);
  /**
   * a secondary the controller cannot reach for this long (while it reaches the primary) is
   * dropped; generous, because the primary runs on either way and a loaded host's agent may miss a
   * few 300 ms rounds (FtTest saw 1.5 s at load 18), while a dropped secondary costs the protection
   */
  static final Duration SECONDARY_UNREACHED = Duration.ofSeconds(3);
  static final Duration MIN_GUARD = Duration.ofMillis(800);
  /**
   * No heartbeat from the primary's fencer for this long, its agent unreached as long: the primary
   * host is lost (or its guest fenced). Its fencer stops the guest after 500 ms of hearing neither
   * the secondary nor the controller, checking every 100 ms round: 800 ms leaves it 200 ms (a
   * {@code kill -STOP} and a loaded host's scheduling) to be stopped before the secondary runs.
   */
  static final Duration HOST_SILENCE = Duration.ofMillis(800);
  /** A heartbeat is missing (two 100 ms rounds, then some): worth looking again when {@link #HOST_SILENCE} is reached. */
  static final Duration MISSED = Duration.ofMillis(200);

  private FtWatch() {}

  /** The takeover deadline for an unreachable primary whose connection still stands. */
  static Duration guard(int checkpointIntervalMs) {
    Duration byCheckpoints = Duration.ofMillis(checkpointIntervalMs + 500L);
    return byCheckpoints.compareTo(MIN_GUARD) > 0 ? byCheckpoints : MIN_GUARD;
  }

  /** What one round saw. {@code primary}/{@code secondary} null when the call failed ({@code primaryError}, ...). */
  record Round(Instant at, FtPrimaryStatus primary, String primaryError, Duration primaryUnreached,
      FtSecondaryHeartbeat secondary, String secondaryError, boolean secondaryNotFound, Duration secondaryUnreached,
      Duration checkpointsStalled, int checkpointIntervalMs) {}

  sealed interface Verdict {}

  record Healthy() implements Verdict {}

  /** Nothing can be decided yet (e.g. neither side answers: the controller may be the one cut off). */
  record Wait(String why) implements Verdict {}

  record SecondaryLost(String why) implements Verdict {}

  /** {@code failureAt}: the primary's last sign of life. */
  record PrimaryLost(String why, Instant failureAt) implements Verdict {}

  static Verdict judge(Round r, String primaryHost, String secondaryHost) {
    FtPrimaryStatus p = r.primary();
    FtSecondaryHeartbeat s = r.secondary();
    Duration guard = guard(r.checkpointIntervalMs());
    if (s == null) {
      if (p == null) return new Wait("neither agent answers");
      if (r.secondaryNotFound()) return new SecondaryLost("the secondary on " + secondaryHost + " is gone");
      // its agent may only be restarting: while the primary's checkpoints still complete, its QEMU lives
      if (r.secondaryUnreached().compareTo(SECONDARY_UNREACHED) >= 0 && r.checkpointsStalled().compareTo(guard) >= 0) {
        return new SecondaryLost("the secondary's agent on " + secondaryHost + " did not answer for "
            + r.secondaryUnreached().toMillis() + " ms and no checkpoint completed for "
            + r.checkpointsStalled().toMillis() + " ms: " + r.secondaryError());
      }
      return new Wait("the secondary's agent did not answer: " + r.secondaryError());
    }
    Instant lastHeard = r.at().minusMillis(s.silentMs());
    if (s.takenOver()) return new PrimaryLost("the secondary on " + secondaryHost + " had already taken over", lastHeard);
    if (!s.qemuAlive()) {
      return p != null ? new SecondaryLost("the secondary qemu on " + secondaryHost + " is gone")
          : new Wait("the secondary qemu is gone and the primary's agent does not answer");
    }
    if (p != null) {
      if (p.phase().equals(FtPrimaryStatus.FENCED)) {
        return new PrimaryLost("the primary on " + primaryHost + " fenced its guest: " + p.reason(),
            p.fencedAt() != null ? p.fencedAt() : lastHeard);
      }
      if (p.phase().equals(FtPrimaryStatus.FAILED) || p.phase().equals(FtPrimaryStatus.NONE)) {
        return new PrimaryLost("the primary on " + primaryHost + ": " + (p.reason() != null ? p.reason()
            : "its agent no longer protects the vm"), lastHeard);
      }
      if (p.secondarySilentMs() != null && p.secondarySilentMs() >= guard.toMillis() && s.silentMs() >= guard.toMillis()) {
        return new SecondaryLost("the path between " + primaryHost + " and " + secondaryHost + " is cut (neither heard"
            + " the other for " + Math.min(p.secondarySilentMs(), s.silentMs()) + " ms); the primary, which the"
            + " controller reaches, runs on");
      }
      return new Healthy();
    }
    if (!s.streamOpen() && s.silentMs() >= CLOSED_SILENCE.toMillis()) {
      return new PrimaryLost("the primary qemu on " + primaryHost + " is gone (its COLO connection closed, no heartbeat"
          + " for " + s.silentMs() + " ms, its agent: " + r.primaryError() + ")", lastHeard);
    }
    long h = HOST_SILENCE.toMillis();
    if (s.lastHeardAt() != null && r.primaryUnreached().toMillis() >= h && s.silentMs() >= h) {
      return new PrimaryLost("the primary host " + primaryHost + " is lost or its guest fenced (no heartbeat from its"
          + " fencer for " + s.silentMs() + " ms, its COLO connection still up, its agent unreachable for "
          + r.primaryUnreached().toMillis() + " ms: " + r.primaryError() + ")", lastHeard);
    }
    long g = guard.toMillis();
    if (r.primaryUnreached().toMillis() >= g && s.silentMs() >= g && s.checkpointSilentMs() >= g) {
      return new PrimaryLost("the primary host " + primaryHost + " is lost (no heartbeat, no checkpoint for "
          + Math.min(s.silentMs(), s.checkpointSilentMs()) + " ms, its agent unreachable for "
          + r.primaryUnreached().toMillis() + " ms: " + r.primaryError() + ")", lastHeard);
    }
    return new Wait("the primary's agent does not answer: " + r.primaryError());
  }

  /**
   * When a round that waited should be looked at again sooner than the next round: the primary
   * unreached and its fencer's heartbeats missing but not yet for {@link #HOST_SILENCE}. The next
   * full round would first spend its call timeout on the unreachable primary (300 ms) and decide up
   * to that much late; the secondary alone, asked again once the silence reaches the bound, decides
   * at it. Null: the next round as usual.
   */
  static Duration lookAgainIn(Round r) {
    FtSecondaryHeartbeat s = r.secondary();
    if (r.primary() != null || s == null || !s.qemuAlive() || s.takenOver() || !s.streamOpen() || s.lastHeardAt() == null) {
      return null;
    }
    long h = HOST_SILENCE.toMillis();
    if (s.silentMs() < MISSED.toMillis() || s.silentMs() >= h) return null;
    long wait = Math.max(h - s.silentMs(), h - r.primaryUnreached().toMillis());
    return Duration.ofMillis(Math.max(0, wait) + 10);
  }
}
