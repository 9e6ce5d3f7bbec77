package dev.ferry.controller.migration;

import dev.ferry.controller.migration.MigrationPhase.Recovery.Action;

/**
 * The persisted phases of a warm migration, in order. The pass number is persisted with the record
 * ({@code passes}: passes done), so a restarted controller goes on with the pass it was at. The
 * point of no return is the ownership change at the end of {@link #DEFINING}'s step (one store
 * transaction): before it a cancel or a failure leaves the VM running on the source (a guest
 * powered off for the cutover boots there again) and removes everything on the target.
 */
enum WarmPhase implements MigrationPhase {
  /** recorded after preflight; nothing asked of any agent yet */
  PENDING(Side.BEFORE, OnFailure.ROLL_BACK, Action.ROLL_BACK, "nothing was asked of any agent yet: roll back"),
  /** the target makes the new images; the source starts its NBD server and the first dirty bitmap */
  PREPARING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "both calls are idempotent per migration: ask again"),
  /** passes while the guest runs: pass 0 whole, then what each bitmap recorded; waits for the cutover */
  COPYING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME,
      "the pass number is persisted and the source keeps the pass's bitmap: go on with that pass"),
  /**
   * the VM defined on the target and its QEMU started there paused, disks staged, while the guest
   * still runs; then the guest asked to power off (ACPI), its QEMU staying with its disks and bitmaps
   */
  SHUTTING_DOWN(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME,
      "asking again finds a powered-off guest or presses the button again"),
  /**
   * the final pass over the last bitmap with the guest off, then the target's staged QEMU takes the
   * images (still paused: its guest boots in STARTING) while the source answers its kept hashes;
   * the source's QEMU, its guest off, stays until RELEASING
   */
  FINAL_PASS(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "the pass is idempotent per number: run it again"),
  /** each host hashes its copy next to the data; the controller compares */
  VERIFYING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME, "hashing has no side effect: hash again"),
  /** the VM is defined on the target (unless staged already), then its owner changes in one transaction: the point of no return */
  DEFINING(Side.BEFORE, OnFailure.ROLL_BACK, Action.RESUME,
      "define is idempotent and the ownership change is observed first: do it again"),
  /** the VM belongs to the target: started there (a staged QEMU gets its disks and runs on) */
  STARTING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: start it, roll forward"),
  /** the source's QEMU quits, its definition and images are removed, the target's copy record forgotten */
  RELEASING(Side.PAST, OnFailure.RETRY, Action.RESUME, "past the point of no return: release the source"),
  /** final: the VM runs on the target */
  DONE(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final"),
  /** undoing before the point of no return: target copy removed, source bitmaps and exports removed, guest running */
  CANCELLING(Side.BEFORE, OnFailure.RETRY, Action.RESUME, "a rollback was under way: finish it"),
  /** final: the VM runs on the source as before */
  ROLLED_BACK(Side.FINAL, OnFailure.NONE, Action.NOTHING, "already final");

  private final Rules rules;

  WarmPhase(Side side, OnFailure onFailure, Action restart, String why) {
    this.rules = Rules.of(side, onFailure, restart, why);
  }

  @Override
  public Rules rules() {
    return rules;
  }

  @Override
  public boolean canMoveTo(MigrationPhase next) {
    if (!(next instanceof WarmPhase n) || terminal()) return false;
    // a rollback that finds the owner changed already (a crash right after the transaction) rolls forward
    if (this == CANCELLING) return n == ROLLED_BACK || n == RELEASING;
    if (n == CANCELLING) return side() == Side.BEFORE;
    return n.ordinal() > ordinal() && n != ROLLED_BACK;
  }

  /** Phases in which a cancel request is taken: before the point of no return and not yet rolling back. */
  static java.util.List<String> cancellable() {
    return java.util.Arrays.stream(values()).filter(p -> p.side() == Side.BEFORE && p != CANCELLING)
        .map(WarmPhase::text).toList();
  }

  /** Phases in which a manual cutover request is taken: while the passes run. */
  static java.util.List<String> cutoverable() {
    return java.util.List.of(PENDING.text(), PREPARING.text(), COPYING.text());
  }

  static WarmPhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
