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
   * Measured under TCG on 2 cores (docs/ft.md, colo.md): a checkpoint pauses a 128-256 MiB guest
   * ~50-100 ms, so 2 s costs the guest a few percent of its time; 500 ms ~12 %, 100 ms ~70 %.
   */
  public static final int DEFAULT_CHECKPOINT_INTERVAL_MS = 2000;
  public static final int MIN_CHECKPOINT_INTERVAL_MS = 100;
  public static final int MAX_CHECKPOINT_INTERVAL_MS = 60_000;
}
