package dev.ferry.controller.migration;

/**
 * The persisted phases of a storage migration, in order. A phase is recorded before its side
 * effects; the runner moves forward only. {@link #PIVOTING} is the point of no return: from
 * there the VM writes to the new images, and the migration rolls forward whatever happens.
 */
enum StoragePhase {
  /** recorded; nothing asked of the agent yet */
  PENDING,
  /** mirrors (or offline copies) requested and copying; the VM still uses its old disks */
  MIRRORING,
  /** every disk in sync; writes go to both images */
  READY,
  /** switching the VM to the new images, disk by disk; no way back from here */
  PIVOTING,
  /** comparing the new images with the old ones as of the pivot */
  VERIFYING,
  /** letting go of the old images (deleted unless kept) */
  RELEASING,
  /** final: the VM runs on the new images */
  DONE,
  /** undoing a migration that did not reach the pivot: jobs cancelled, new images deleted */
  CANCELLING,
  /** final: the VM runs on its old disks, untouched */
  ROLLED_BACK;

  boolean beforePointOfNoReturn() {
    return ordinal() < PIVOTING.ordinal();
  }

  String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  static StoragePhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
