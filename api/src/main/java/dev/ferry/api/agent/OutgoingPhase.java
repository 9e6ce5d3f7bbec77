package dev.ferry.api.agent;

import java.util.Locale;

/**
 * Where a live migration stands on its source host ({@link MigrationStats#phase()}); the source
 * agent persists it before the side effect of the step it names. Forward only: {@link #canMoveTo}
 * refuses going back. On the wire as the lower-case name, e.g. {@code handed_over}.
 */
public enum OutgoingPhase {
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
  CANCELLED,
  /** completed, but the target's QEMU died before it ever ran the guest: the source resumed its complete copy */
  RECLAIMED;

  /** While true, ordinary start/stop/kill/redefine/delete of the VM are refused. */
  public boolean blocksActions() {
    return switch (this) {
      case PREPARING, MIRRORING, MIGRATING, SWITCHOVER, COMPLETED -> true;
      case HANDED_OVER, FAILED, CANCELLED, RECLAIMED -> false;
    };
  }

  /** Whether the migration is over (a new one may start). */
  public boolean ended() {
    return this == HANDED_OVER || this == FAILED || this == CANCELLED || this == RECLAIMED;
  }

  /** Whether QEMU completed the copy: the source guest cannot run again, only roll forward. */
  public boolean completed() {
    return this == COMPLETED || this == HANDED_OVER;
  }

  /** Whether the source gave up the migration and kept the guest. */
  public boolean abandoned() {
    return this == FAILED || this == CANCELLED || this == RECLAIMED;
  }

  public boolean canMoveTo(OutgoingPhase next) {
    return switch (this) {
      case HANDED_OVER, FAILED, CANCELLED, RECLAIMED -> false;
      // after completion forward, or back only by a reclaim: the target's QEMU died before its guest ran
      case COMPLETED -> next == HANDED_OVER || next == RECLAIMED;
      default -> next.ordinal() > ordinal();
    };
  }

  /** The JSON text, for messages. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
