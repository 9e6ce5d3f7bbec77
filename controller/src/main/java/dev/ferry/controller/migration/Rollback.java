package dev.ferry.controller.migration;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.OutgoingPhase;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undoes a live migration that did not reach the point of no return: the source cancels (its agent
 * resumes the guest, whose target never ran) and then the target's QEMU is deleted. Nothing is
 * deleted on a guess: while the source's state is unknown (its agent does not answer, or the cancel
 * did not go through) both sides are kept and the step fails, so the runner tries again later; a
 * source that completed meanwhile turns the rollback into a roll forward.
 */
final class Rollback {

  private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final AgentWatch watch;

  Rollback(MigrationContext ctx, MigrationRecord record, AgentWatch watch) {
    this.ctx = ctx;
    this.record = record;
    this.watch = watch;
  }

  /**
   * {@link LivePhase#ROLLED_BACK} once the source runs the guest again and the target is gone;
   * {@link LivePhase#RESUMING_TARGET} when the source had completed (its guest cannot resume, the
   * target holds the whole state). Throws, keeping both sides, while either side cannot be settled.
   */
  LivePhase rollBack() {
    MigrationStats s = sourceOrUnknown();
    boolean ours = s != null && record.id.equals(s.migrationId());
    if (ours && completed(s)) {
      if (s.phase() != OutgoingPhase.COMPLETED || !watch.targetDiedUnresumed()) {
        note("the source had completed before the rollback reached it: rolled forward");
        return LivePhase.RESUMING_TARGET;
      }
      reclaim();
    } else if (ours && !s.phase().abandoned()) {
      try {
        ctx.retrying(record.source, "cancel on the source", () -> ctx.agent(record.source).cancelOutgoing(record.vm));
      } catch (ControllerException e) {
        MigrationStats again = sourceOrUnknown();
        if (again != null && record.id.equals(again.migrationId()) && completed(again)) {
          note("the source completed while being cancelled: rolled forward");
          return LivePhase.RESUMING_TARGET;
        }
        throw new ControllerException(Kind.UNAVAILABLE, "cancel on host '" + record.source + "' did not go through ("
            + e.getMessage() + "); the target on host '" + record.target + "' is kept until the source is settled", e);
      }
    }
    // the source runs its guest again (or never started): the target's copy is not needed
    try {
      ctx.retrying(record.target, "rollback of the target", () -> {
        ctx.agent(record.target).rollBackIncoming(record.vm);
        return null;
      });
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return LivePhase.ROLLED_BACK;
      throw new ControllerException(e.kind(), "deleting the target of vm '" + record.vm + "' on host '" + record.target
          + "' did not go through; the vm runs on host '" + record.source + "': " + e.getMessage(), e);
    }
    return LivePhase.ROLLED_BACK;
  }

  /**
   * The source completed but the target's QEMU died unresumed: the source's paused copy is the
   * only whole guest, so it runs again there. Refused (both QEMUs gone, say): kept for the next try
   * or an operator, nothing deleted.
   */
  private void reclaim() {
    var why = new OutgoingReclaim(record.id, "the target qemu on host '" + record.target + "' died before running it");
    try {
      ctx.retrying(record.source, "reclaim on the source", () -> ctx.agent(record.source).reclaimOutgoing(record.vm, why));
    } catch (ControllerException e) {
      throw new ControllerException(Kind.UNAVAILABLE, "host '" + record.source + "' could not resume vm '" + record.vm
          + "' after its target died unresumed (" + e.getMessage() + "); both sides kept, nothing deleted", e);
    }
    LOG.warn("migration {}: vm {} resumed on the source host {}", record.id, record.vm, record.source);
  }

  /** The source's stats, null when it has no outgoing migration; throws when its agent cannot say. */
  private MigrationStats sourceOrUnknown() {
    try {
      return watch.sourceStats();
    } catch (ControllerException e) {
      throw new ControllerException(Kind.UNAVAILABLE, "the state of vm '" + record.vm + "' on source host '"
          + record.source + "' is unknown (" + e.getMessage() + "); both sides kept, nothing deleted on a guess", e);
    }
  }

  private static boolean completed(MigrationStats s) {
    return s.phase().completed();
  }

  void note(String text) {
    record.reason = record.reason == null ? text : record.reason + "; " + text;
    LOG.warn("migration {}: {}", record.id, text);
  }
}
