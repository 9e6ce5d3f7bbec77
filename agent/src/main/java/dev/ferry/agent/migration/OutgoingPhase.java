package dev.ferry.agent.migration;

/**
 * Where a live migration stands on its source host; persisted in {@code migration.json} before
 * the side effect of the step it names. Forward only: {@link #canMoveTo} refuses going back.
 */
enum OutgoingPhase {
  /** the request is recorded; nothing happened in QEMU yet */
  PREPARING,
  /** NBD nodes and mirror jobs to the target's exports, waiting for every mirror to be READY */
  MIRRORING,
  /** {@code migrate} sent; RAM is being copied */
  MIGRATING,
  /** QEMU paused before switchover: mirrors are being cancelled (consistent copy), then migrate-continue */
  SWITCHOVER,
  /** QEMU completed: the source is postmigrate, the target holds the guest (paused until its finish) */
  COMPLETED,
  /** the source QEMU quit and the VM was forgotten here: it is owned by the target host now */
  HANDED_OVER,
  /** QEMU or a mirror failed; the source kept (or was given back) the guest, unless post-copy had started */
  FAILED,
  /** cancelled on request; the source kept the guest */
  CANCELLED;

  /** While true, ordinary start/stop/kill/redefine/delete of the VM are refused. */
  boolean blocksActions() {
    return switch (this) {
      case PREPARING, MIRRORING, MIGRATING, SWITCHOVER, COMPLETED -> true;
      case HANDED_OVER, FAILED, CANCELLED -> false;
    };
  }

  /** Whether the migration is over (a new one may start). */
  boolean ended() {
    return this == HANDED_OVER || this == FAILED || this == CANCELLED;
  }

  boolean canMoveTo(OutgoingPhase next) {
    return switch (this) {
      case HANDED_OVER, FAILED, CANCELLED -> false;
      // after completion only forward: rolling back is the target's DELETE plus a new start here
      case COMPLETED -> next == HANDED_OVER;
      default -> next.ordinal() > ordinal();
    };
  }

  String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
