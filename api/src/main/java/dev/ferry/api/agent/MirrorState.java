package dev.ferry.api.agent;

import java.util.Locale;

/**
 * One disk's move as its agent reports it ({@link MirrorStatus#state()}). The agent's own
 * persisted phases are finer; this is what the controller needs to drive the move. On the wire as
 * the lower-case name.
 */
public enum MirrorState {
  /** no move of this disk is known */
  NONE,
  /** copying */
  RUNNING,
  /** in sync: writes go to both images; the move can pivot */
  READY,
  /** the VM uses the new image */
  PIVOTED,
  /** the copy failed before the pivot; the VM still uses the old image */
  FAILED,
  /** the old image was let go */
  RELEASED;

  /** The JSON text, for messages. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
