package dev.ferry.agent.storage;

import dev.ferry.api.agent.MirrorState;

/**
 * Where one disk move stands, persisted in {@code moves/DISK.json} before the side effects of the
 * next step. Forward only: {@code PREPARING → COPYING → PIVOTING → PIVOTED → RELEASED}, or
 * {@code FAILED} from any phase before {@code PIVOTING}.
 */
enum MovePhase {
  /** facts written; the target image, its nodes and the job may exist in part */
  PREPARING,
  /** the mirror job (or qemu-img convert) runs, or has caught up (ready) */
  COPYING,
  /**
   * the dirty bitmap and block-job-complete may have been sent: the point of no return; should
   * QEMU die here the move rolls forward to the target, a superset of the source
   */
  PIVOTING,
  /** the VM uses the target; its definition names it */
  PIVOTED,
  /** the source nodes are gone from QEMU and the source image deleted unless kept */
  RELEASED,
  /** the copy failed before the pivot; the target was removed, the VM still uses its source */
  FAILED;

  /** A move in one of these phases blocks another move of the same disk. */
  boolean inFlight() {
    return switch (this) {
      case PREPARING, COPYING, PIVOTING, PIVOTED -> true;
      case RELEASED, FAILED -> false;
    };
  }

  /** What the agent reports of a move in this phase: the pivot is not done until PIVOTED, so PIVOTING is still ready. */
  MirrorState reported() {
    return switch (this) {
      case PREPARING, COPYING -> MirrorState.RUNNING;
      case PIVOTING -> MirrorState.READY;
      case PIVOTED -> MirrorState.PIVOTED;
      case RELEASED -> MirrorState.RELEASED;
      case FAILED -> MirrorState.FAILED;
    };
  }

  /** Before the point of no return: a cancel rolls back. */
  boolean cancellable() {
    return switch (this) {
      case PREPARING, COPYING, FAILED -> true;
      case PIVOTING, PIVOTED, RELEASED -> false;
    };
  }
}
