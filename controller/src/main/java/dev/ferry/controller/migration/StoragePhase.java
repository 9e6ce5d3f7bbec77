package dev.ferry.controller.migration;

import dev.ferry.controller.migration.MigrationPhase.Recovery.Action;

/**
 * The persisted phases of a storage migration, in order, each with its own rules. A phase is
 * recorded before its side effects; the runner moves forward only. {@link #PIVOTING} is the point
 * of no return: from there the VM writes to the new images, and the migration rolls forward
 * whatever happens, retrying with backoff while the agent does not answer.
 */
enum StoragePhase implements MigrationPhase {
  /** recorded; nothing asked of the agent yet */
  PENDING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "nothing was asked of the agent yet: start it"),
  /** mirrors (or offline copies) requested and copying; the VM still uses its old disks */
  MIRRORING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "the mirrors ran on in qemu: watch them again"),
  /** every disk in sync; writes go to both images */
  READY(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "the mirrors ran on in qemu: watch them again"),
  /** switching the VM to the new images, disk by disk; no way back from here once a disk pivoted */
  PIVOTING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: pivot the rest, roll forward"),
  /** comparing the new images with the old ones as of the pivot */
  VERIFYING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: verify again, roll forward"),
  /** letting go of the old images (deleted unless kept) */
  RELEASING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: release the old images"),
  /** final: the VM runs on the new images */
  DONE(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final"),
  /** undoing a migration that did not reach the pivot: jobs cancelled, new images deleted; still before the point of no return */
  CANCELLING(Side.BEFORE, OnFailure.RETRY, Action.RESUME, "a rollback was under way: finish it"),
  /** final: the VM runs on its old disks, untouched */
  ROLLED_BACK(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final");

  private final Rules rules;

  StoragePhase(Side side, OnFailure onFailure, Action restart, String why) {
    this.rules = Rules.of(side, onFailure, restart, why);
  }

  @Override
  public Rules rules() {
    return rules;
  }

  @Override
  public boolean canMoveTo(MigrationPhase next) {
    if (!(next instanceof StoragePhase n) || terminal()) return false;
    if (this == CANCELLING) return n == ROLLED_BACK;
    // the one backward-looking edge: the agent refused the first pivot because that disk's copy
    // had failed before it, so no disk pivoted and the VM never left its old disks
    if (this == PIVOTING && n == CANCELLING) return true;
    if (n == CANCELLING) return side() == Side.BEFORE;
    // VERIFYING may end the migration as DONE (failed verification) without RELEASING
    return n.ordinal() > ordinal() && n != ROLLED_BACK;
  }

  /** Phases in which a cancel request is taken: before the pivot and not yet rolling back. */
  static java.util.List<String> cancellable() {
    return java.util.Arrays.stream(values()).filter(p -> p.side() == Side.BEFORE && p != CANCELLING)
        .map(StoragePhase::text).toList();
  }

  static StoragePhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
