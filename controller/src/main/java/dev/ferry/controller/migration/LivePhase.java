package dev.ferry.controller.migration;

/**
 * The persisted phases of a live migration, in order. A phase is recorded before its side
 * effects; the runner moves forward only. {@link #RESUMING_TARGET} is the point of no return:
 * from there the guest runs on the target, and the migration rolls forward whatever happens.
 */
enum LivePhase {
  /** recorded after preflight; nothing asked of any agent yet */
  PENDING,
  /** the target agent starts a paused QEMU that listens for the stream ({@code PUT incoming}) */
  PREPARING_TARGET,
  /** the source sends RAM (and mirrors copied disks); the controller watches convergence */
  MIGRATING,
  /** the source paused (or post-copy runs); waiting for QEMU's {@code completed} */
  SWITCHOVER,
  /** the target's guest is resumed ({@code incoming/finish}); no way back from here */
  RESUMING_TARGET,
  /** the VM changes owner to the target in the store, then the source QEMU quits ({@code outgoing/complete}) */
  TRANSFERRING,
  /** final: the VM runs on the target and belongs to it */
  DONE,
  /** undoing a migration that did not reach the point of no return: source cancel, target deleted */
  CANCELLING,
  /** final: the VM runs on the source, which still owns it */
  ROLLED_BACK;

  boolean beforePointOfNoReturn() {
    return ordinal() < RESUMING_TARGET.ordinal() || this == CANCELLING || this == ROLLED_BACK;
  }

  /** Phases in which a cancel request is taken (post-copy refuses it separately). */
  static java.util.List<String> cancellable() {
    return java.util.List.of(PENDING.text(), PREPARING_TARGET.text(), MIGRATING.text(), SWITCHOVER.text());
  }

  String text() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  static LivePhase parse(String text) {
    return valueOf(text.toUpperCase(java.util.Locale.ROOT));
  }
}
