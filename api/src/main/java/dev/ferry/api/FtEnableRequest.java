package dev.ferry.api;

/**
 * {@code POST /api/ft}: protect a running, FT-ready VM with a COLO secondary on {@code secondary}
 * (issue 12). {@code checkpointIntervalMs} (null: {@link #DEFAULT_CHECKPOINT_INTERVAL_MS}) is
 * COLO's {@code x-checkpoint-delay}, the longest time between two checkpoints. {@code reprotect}
 * (null: true): once the VM runs unprotected (its secondary lost, or a failover), the controller
 * builds a new secondary on an eligible host by itself.
 */
public record FtEnableRequest(String vm, String secondary, Integer checkpointIntervalMs, Boolean reprotect) {

  public FtEnableRequest(String vm, String secondary, Integer checkpointIntervalMs) {
    this(vm, secondary, checkpointIntervalMs, null);
  }

  /**
   * From {@code ferry bench ft} (docs/bench/ft.md, docs/ft.md "Checkpoint interval"): the shortest
   * interval whose checkpoint pauses stay within 10 % of the guest's time with its network quiet
   * (5 %; 500 ms: 23 %, 100 ms: all of it).
   */
  public static final int DEFAULT_CHECKPOINT_INTERVAL_MS = 2000;
  public static final int MIN_CHECKPOINT_INTERVAL_MS = 100;
  public static final int MAX_CHECKPOINT_INTERVAL_MS = 60_000;
}
