package dev.ferry.controller.migration;

import dev.ferry.controller.migration.MigrationPhase.Recovery.Action;

/**
 * The persisted phases of a cold migration, in order. The point of no return is the ownership
 * change at the end of {@link #DEFINING}'s step (one store transaction): before it the VM is the
 * source's and a rollback removes every copy on the target; from {@link #STARTING} on it is the
 * target's and the migration rolls forward.
 */
enum ColdPhase implements MigrationPhase {
  /** recorded after preflight; nothing asked of any agent yet */
  PENDING(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK, "nothing was asked of any agent yet: roll back"),
  /** the guest was asked to power off (ACPI), the controller waits for it to stop */
  SHUTTING_DOWN(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "ask the agent how the vm stands and go on"),
  /** the source serves the stopped VM's disks read-only over NBD; idempotent per migration */
  EXPORTING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "the export is idempotent per migration: ask again"),
  /** the target pulls the disks with Ferry's copier into new images */
  COPYING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "the copy ran on in the target agent: watch it again"),
  /** each host hashes its copy next to the data; the controller compares the hashes */
  VERIFYING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "hashing has no side effect: hash again"),
  /** the VM is defined on the target (stopped), then its owner changes in one transaction: the point of no return */
  DEFINING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME,
      "define is idempotent and the ownership change is observed first: do it again"),
  /** the VM belongs to the target; started there when asked */
  STARTING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: start it, roll forward"),
  /** the source's export stopped, its definition dropped, its images deleted unless kept */
  RELEASING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: release the source"),
  /** final: the VM is on the target */
  DONE(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final"),
  /** undoing before the point of no return: target definition and images removed, export stopped */
  CANCELLING(Side.BEFORE, OnFailure.RETRY, Action.RESUME, "a rollback was under way: finish it"),
  /** final: the VM is on the source as it was */
  ROLLED_BACK(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final");

  private final Rules rules;

  ColdPhase(Side side, OnFailure onFailure, Action restart, String why) {
    this.rules = Rules.of(side, onFailure, restart, why);
  }

  @Override
  public Rules rules() {
    return rules;
  }

  @Override
  public boolean canMoveTo(MigrationPhase next) {
    if (!(next instanceof ColdPhase n) || terminal()) return false;
    // a rollback that finds the owner changed already (a crash right after the transaction) rolls forward
    if (this == CANCELLING) return n == ROLLED_BACK || n == RELEASING;
    if (n == CANCELLING) return side() == Side.BEFORE;
    return n.ordinal() > ordinal() && n != ROLLED_BACK;
  }

  /** Phases in which a cancel request is taken: before the point of no return and not yet rolling back. */
  static java.util.List<String> cancellable() {
    return java.util.Arrays.stream(values()).filter(p -> p.side() == Side.BEFORE && p != CANCELLING)
        .map(ColdPhase::text).toList();
  }

  static ColdPhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
