package dev.ferry.controller.migration;

import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.controller.ControllerException;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start on the target after a cold or warm hand-over (past the point of no return: the VM is
 * the target's, its disks there). A start the agent refuses or whose QEMU dies while it starts is
 * tried again a few times; when every try failed the VM stays defined and stopped on the target
 * and the migration ends failed saying so, instead of retrying for ever with the VM locked by a
 * migration that can never succeed (the operator fixes the cause and runs {@code ferry vm start}).
 * An agent that cannot be reached is not a failed start: that is the runner's retry rule.
 */
final class TargetStart {

  private static final Logger LOG = LoggerFactory.getLogger(TargetStart.class);
  static final int TRIES = 3;
  private static final Duration AGAIN_AFTER = Duration.ofMillis(500);

  private TargetStart() {}

  /**
   * True once the VM runs on the target; false when all {@link #TRIES} starts failed (noted in the
   * reason). {@code handedOverNow}: this runner made the hand-over itself a moment ago, so nothing
   * can have started the VM there since, and the first start is sent without asking the VM's state
   * first (a round trip of the downtime); a runner recovered after the hand-over asks first.
   */
  static boolean start(MigrationContext ctx, MigrationRecord record, Consumer<String> note, boolean handedOverNow) {
    String failed = null;
    boolean answered = false;
    for (int attempt = 1; ; attempt++) {
      if (attempt > 1 || !handedOverNow) {
        AgentVmStatus st = ctx.retrying(record.target, "status of vm " + record.vm,
            () -> ctx.agent(record.target).vm(record.vm));
        if (st.state() == VmState.RUNNING) {
          if (failed != null) {
            note.accept("the start of vm '" + record.vm + "' on host '" + record.target + "' failed (" + failed
                + ") and was tried again");
          }
          return true;
        }
        // a start the agent answered whose QEMU died right after
        if (answered) failed = "it was " + st.state().name().toLowerCase(java.util.Locale.ROOT) + " right after its start";
      }
      if (attempt > TRIES) break;
      try {
        AgentVmStatus started = ctx.retrying(record.target, "start of vm " + record.vm,
            () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).start(record.vm));
        answered = true;
        // the answer is the state the start left; asking again only costs the guest's downtime a round trip
        if (started.state() == VmState.RUNNING && failed == null) return true;
      } catch (ControllerException e) {
        if (e.kind() == ControllerException.Kind.UNAVAILABLE) throw e;
        answered = false;
        failed = e.getMessage();
        LOG.warn("migration {}: start {} of {} of vm {} on host {} failed: {}", record.id, attempt, TRIES, record.vm,
            record.target, failed);
        ctx.sleep(AGAIN_AFTER);
      }
    }
    note.accept("vm '" + record.vm + "' now belongs to host '" + record.target + "' (its disks copied there"
        + (Boolean.TRUE.equals(record.verified) ? " and verified" : "") + ", the source's released) but did not start"
        + " there in " + TRIES + " tries (" + failed + "); it stays there stopped: fix the cause, then ferry vm start "
        + record.vm);
    return false;
  }
}
