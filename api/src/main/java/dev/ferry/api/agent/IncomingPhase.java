package dev.ferry.api.agent;

import java.util.Locale;

/**
 * Where a live migration stands on its target host ({@link IncomingStatus#phase()}); the target
 * agent persists it before the side effect of the step it names. Forward only. On the wire as the
 * lower-case name, e.g. {@code rolled_back}.
 */
public enum IncomingPhase {
  /** the request is recorded; images, the paused QEMU, NBD exports and migrate-incoming are being set up */
  PREPARING,
  /** QEMU waits for (or receives) the migration stream, paused ({@code -S}) */
  LISTENING,
  /** point of no return: exports removed, {@code cont} sent; the guest runs here from now on */
  RESUMING,
  /** the VM is an ordinary VM of this host */
  FINISHED,
  /** the target QEMU was killed and its copied images deleted; the source keeps the guest */
  ROLLED_BACK;

  public boolean blocksActions() {
    return this == PREPARING || this == LISTENING || this == RESUMING;
  }

  public boolean canMoveTo(IncomingPhase next) {
    return switch (this) {
      case FINISHED, ROLLED_BACK -> false;
      // once resumed the guest may have written: no rolling back
      case RESUMING -> next == FINISHED;
      default -> next.ordinal() > ordinal();
    };
  }

  /** The JSON text, for messages. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
