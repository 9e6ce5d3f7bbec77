package dev.ferry.controller.migration;

import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.PostcopyResume;
import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a post-copy going over a link that breaks. In post-copy the guest runs on the target and
 * the source holds the pages it has not fetched yet: neither side may give up, so a broken
 * stream is paused and reconnected, never cancelled (QEMU's post-copy recovery).
 *
 * <p>A link that drops packets leaves the TCP stream open and silent: QEMU would notice only after
 * the kernel's retransmission timeout (many minutes) while the guest waits on every missing page.
 * So a stream that moved no byte for {@link #STALL} is paused on the source ({@code migrate-pause}).
 * While the source is {@code postcopy-paused} the target is asked, once a second, to listen again
 * ({@code migrate-recover}; it pauses its own side first if it has not noticed); when it answers,
 * the link is back, and the source resumes to the new address ({@code migrate resume}).
 */
final class PostcopyLink {

  private static final Logger LOG = LoggerFactory.getLogger(PostcopyLink.class);
  /** no byte of post-copy stream for this long: the link is considered broken */
  static final Duration STALL = Duration.ofSeconds(5);
  static final Duration RETRY_EVERY = Duration.ofSeconds(1);
  static final Duration RECOVER_TIMEOUT = Duration.ofSeconds(20);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private long lastTransferred = -1;
  private Instant lastMoved;
  private Instant lastAttempt = Instant.EPOCH;
  /** when the stream was first seen broken (paused or recovering); null while it flows */
  private Instant brokenSince;
  private long longestOutageMs;

  PostcopyLink(MigrationContext ctx, MigrationRecord record) {
    this.ctx = ctx;
    this.record = record;
  }

  /** Looks at the source's stats once per poll of a post-copy and acts when the stream is broken. */
  void watch(MigrationStats s, Instant now) {
    if (s.status() == null) return;
    switch (s.status()) {
      case POSTCOPY_ACTIVE -> {
        if (brokenSince != null) recovered(now);
        if (s.ramTransferredBytes() != lastTransferred || lastMoved == null) {
          lastTransferred = s.ramTransferredBytes();
          lastMoved = now;
        } else if (Duration.between(lastMoved, now).compareTo(STALL) >= 0) {
          pauseSource(now);
        }
      }
      case POSTCOPY_PAUSED -> {
        if (brokenSince == null) broken(now, "the post-copy stream from host '" + record.source + "' broke");
        if (Duration.between(lastAttempt, now).compareTo(RETRY_EVERY) >= 0) {
          lastAttempt = now;
          recover();
        }
      }
      case POSTCOPY_RECOVER_SETUP, POSTCOPY_RECOVER -> {
        if (brokenSince == null) broken(now, "the post-copy stream is reconnecting");
      }
      default -> { }
    }
  }

  private void pauseSource(Instant now) {
    LOG.warn("migration {}: no post-copy byte moved for {} s; pausing the stream of vm {} to recover it", record.id,
        Duration.between(lastMoved, now).toSeconds(), record.vm);
    lastMoved = now; // one pause per stall
    try {
      ctx.agent(record.source).pauseOutgoing(record.vm);
    } catch (ControllerException e) {
      LOG.warn("migration {}: pausing post-copy on host {}: {}", record.id, record.source, e.getMessage());
    }
  }

  /** Target listens again, then the source reconnects; a failure is retried on a later poll. */
  private void recover() {
    IncomingReady again;
    try {
      again = ctx.agent(record.target).within(RECOVER_TIMEOUT).recoverIncoming(record.vm);
    } catch (ControllerException e) {
      if (e.kind() == Kind.UNAVAILABLE || e.kind() == Kind.AGENT_FAILED) {
        LOG.info("migration {}: target host {} not reachable yet for post-copy recovery: {}", record.id, record.target,
            e.getMessage());
        return;
      }
      targetGone(e);
      LOG.warn("migration {}: target host {} refused post-copy recovery: {}", record.id, record.target, e.getMessage());
      return;
    }
    try {
      ctx.agent(record.source).resumeOutgoing(record.vm, new PostcopyResume(again.migrationUri()));
      LOG.info("migration {}: post-copy of vm {} reconnecting to {}", record.id, record.vm, again.migrationUri());
    } catch (ControllerException e) {
      LOG.warn("migration {}: resuming post-copy on host {}: {}", record.id, record.source, e.getMessage());
    }
  }

  /**
   * The target's QEMU held the running guest: without it the newest state is gone, and waiting
   * for a link would wait for ever. Ends the migration as lost, saying what is left where.
   */
  private void targetGone(ControllerException e) {
    IncomingStatus st;
    try {
      st = ctx.agent(record.target).incomingStatus(record.vm);
    } catch (ControllerException again) {
      if (again.kind() == Kind.AGENT_REJECTED && again.agentProblem().status() == 404) st = null;
      else return;
    }
    if (st != null && st.migrationStatus() != QemuMigrationStatus.GONE) return;
    throw new TargetLost("the target qemu of vm '" + record.vm + "' on host '" + record.target
        + "' is gone during post-copy: the guest ran there and its newest memory is lost; the source qemu on host '"
        + record.source + "' holds a paused, older state (" + e.getMessage() + ")");
  }

  /** The target QEMU that ran the guest in post-copy is gone: the migration is lost, not retried. */
  static final class TargetLost extends RuntimeException {
    TargetLost(String message) {
      super(message);
    }
  }

  private void broken(Instant now, String what) {
    brokenSince = now;
    record.reason = what + " at " + now + "; post-copy paused, recovering once host '" + record.target
        + "' is reachable again";
    LOG.warn("migration {}: {}", record.id, record.reason);
    ctx.progress(record, record.phase);
  }

  private void recovered(Instant now) {
    long outage = Duration.between(brokenSince, now).toMillis();
    longestOutageMs = Math.max(longestOutageMs, outage);
    record.postcopyRecoveries++;
    brokenSince = null;
    lastMoved = now;
    record.reason = "post-copy link broke " + record.postcopyRecoveries
        + " time(s) and recovered each time (longest outage " + longestOutageMs + " ms)";
    LOG.info("migration {}: post-copy of vm {} recovered after {} ms", record.id, record.vm, outage);
    ctx.progress(record, record.phase);
  }
}
