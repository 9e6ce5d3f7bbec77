package dev.ferry.controller.migration;

import dev.ferry.api.agent.MigrationStats;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Undoes a live migration that did not reach the point of no return: the source cancels (its
 * guest never stopped running for long) and the target's QEMU is deleted. What an agent refuses
 * on the way goes into the record's reason, not into an exception.
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
   * Source cancel, then the target deleted; each best-effort on its own. False when the source had
   * already completed: then its guest cannot resume and the migration must roll forward.
   */
  boolean rollBack() {
    MigrationStats s = null;
    try {
      s = watch.sourceStats();
    } catch (ControllerException e) {
      note("status of the source: " + e.getMessage());
    }
    boolean ours = s != null && record.id.equals(s.migrationId());
    if (ours && (s.phase().equals("completed") || s.phase().equals("handed_over"))) {
      note("the source had completed before the rollback reached it: rolled forward");
      return false;
    }
    if (ours && !s.phase().equals("cancelled") && !s.phase().equals("failed")) {
      try {
        ctx.retrying(record.source, "cancel on the source", () -> ctx.agents().post(ctx.host(record.source),
            record.vmPath() + "/outgoing/cancel", null, MigrationStats.class));
      } catch (ControllerException e) {
        MigrationStats again = watch.quietSourceStats();
        if (again != null && record.id.equals(again.migrationId()) && again.phase().equals("completed")) {
          note("the source completed while being cancelled: rolled forward");
          return false;
        }
        note("cancel on host '" + record.source + "' failed: " + e.getMessage());
      }
    }
    try {
      ctx.retrying(record.target, "rollback of the target", () -> {
        ctx.agents().delete(ctx.host(record.target), record.vmPath() + "/incoming");
        return null;
      });
    } catch (ControllerException e) {
      if (!(e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404)) {
        note("deleting the target on host '" + record.target + "' failed, a paused qemu may be left there: " + e.getMessage());
      }
    }
    return true;
  }

  void note(String text) {
    record.reason = record.reason == null ? text : record.reason + "; " + text;
    LOG.warn("migration {}: {}", record.id, text);
  }
}
