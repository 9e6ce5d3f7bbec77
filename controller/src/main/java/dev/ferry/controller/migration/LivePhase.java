package dev.ferry.controller.migration;

import dev.ferry.controller.migration.MigrationPhase.Recovery.Action;

/**
 * The persisted phases of a live migration, in order, each with its own rules (side of the point
 * of no return, failure, recovery). A phase is recorded before its side effects; the runner moves
 * forward only. {@link #POSTCOPY} and {@link #RESUMING_TARGET} are the two ways past the point of
 * no return: from either one the guest runs (or will run) on the target, and the migration rolls
 * forward whatever happens, retrying with backoff while a host does not answer.
 */
enum LivePhase implements MigrationPhase {
  /** recorded after preflight; nothing asked of any agent yet */
  PENDING(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK, "nothing was asked of any agent yet: roll back, which is harmless"),
  /** the target agent starts a paused QEMU that listens for the stream ({@code PUT incoming}) */
  PREPARING_TARGET(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK,
      "the target may be half set up, the source has not started: roll back"),
  /** the source sends RAM (and mirrors copied disks); the controller watches convergence */
  MIGRATING(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK,
      "before the point of no return, the guest still runs on the source: roll back"),
  /** post-copy asked for (recorded before {@code migrate-start-postcopy}): the target runs the guest; never cancelled */
  POSTCOPY(Side.PAST, OnFailure.RETRY, Action.RESUME,
      "post-copy moved the guest to the target: watch it and roll forward, never resume the source"),
  /** the source paused for the last pre-copy pass; waiting for QEMU's {@code completed} */
  SWITCHOVER(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK,
      "the target has not run the guest: roll back (rolls forward if the source completed meanwhile)"),
  /**
   * the target's guest is resumed ({@code incoming/finish}); no way back from here, save one: a
   * target QEMU that died before it ever ran the guest gives the guest back to the source
   */
  RESUMING_TARGET(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: resume the target and roll forward"),
  /** the VM changes owner to the target in the store, then the source QEMU quits ({@code outgoing/complete}) */
  TRANSFERRING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: transfer the owner, complete the source"),
  /** final: the VM runs on the target and belongs to it */
  DONE(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final"),
  /** undoing a migration before the point of no return: source cancelled, target deleted; retried while a side is unknown */
  CANCELLING(Side.BEFORE, OnFailure.RETRY, Action.RESUME,
      "a rollback was under way: finish it (nothing is deleted while the source's state is unknown)"),
  /** final: the VM runs on the source, which still owns it */
  ROLLED_BACK(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final"),
  /** final: post-copy broke and neither host holds the whole guest; nothing was resumed or deleted on a guess */
  LOST(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final");

  private final Rules rules;

  LivePhase(Side side, OnFailure onFailure, Action restart, String why) {
    this.rules = Rules.of(side, onFailure, restart, why);
  }

  @Override
  public Rules rules() {
    return rules;
  }

  @Override
  public boolean canMoveTo(MigrationPhase next) {
    if (!(next instanceof LivePhase n) || terminal()) return false;
    return switch (this) {
      // post-copy ends forward or lost, never in a rollback
      case POSTCOPY -> n == RESUMING_TARGET || n == LOST;
      // the source completed before the cancel reached it: the target holds the whole state, so
      // the way on is forward unless the target died before running it (see RESUMING_TARGET)
      case CANCELLING -> n == ROLLED_BACK || n == RESUMING_TARGET;
      // the target's QEMU died before its guest ever ran: the completed source holds the one whole copy
      case RESUMING_TARGET -> n == TRANSFERRING || n == CANCELLING;
      // a rollback starts only before the point of no return; LOST only from post-copy
      default -> n == CANCELLING ? side() == Side.BEFORE
          : n.ordinal() > ordinal() && n != POSTCOPY && n != LOST && n != ROLLED_BACK
              || n == POSTCOPY && this == MIGRATING;
    };
  }

  /** Phases in which a cancel request is taken: before the point of no return and not yet rolling back. */
  static java.util.List<String> cancellable() {
    return java.util.Arrays.stream(values()).filter(p -> p.side() == Side.BEFORE && p != CANCELLING)
        .map(LivePhase::text).toList();
  }

  static LivePhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
