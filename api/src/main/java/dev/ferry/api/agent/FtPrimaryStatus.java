package dev.ferry.api.agent;

import java.time.Instant;

/**
 * Protection as the primary's agent sees it.
 *
 * @param phase                  {@code none} (never protected or unprotected since),
 *                               {@code syncing}, {@code protecting}, {@code protected} or
 *                               {@code failed} (the enable stopped; {@code reason} says why)
 * @param syncedBytes            the disk sync's progress (all disks), while syncing
 * @param checkpoints            COLO checkpoints since protection started
 * @param checkpointPauseMedianMs the median guest pause of the checkpoints of the last minute; null without one
 * @param checkpointPauseMaxMs   the longest of them
 * @param enablePauseMs          how long the guest was paused from the sync's end to COLO's start
 * @param secondarySilentMs      how long the primary has not heard the secondary's heartbeat
 *                               answer; null without peer heartbeats
 * @param fencedAt               when this agent fenced the guest (stopped its QEMU) after hearing
 *                               neither the secondary nor the controller; null when not fenced
 */
public record FtPrimaryStatus(String vm, String phase, String secondaryHost, Long syncedBytes, Long syncTotalBytes,
    long checkpoints, Long checkpointPauseMedianMs, Long checkpointPauseMaxMs, Instant lastCheckpointAt,
    Long enablePauseMs, String reason, Long secondarySilentMs, Instant fencedAt) {

  public FtPrimaryStatus(String vm, String phase, String secondaryHost, Long syncedBytes, Long syncTotalBytes,
      long checkpoints, Long checkpointPauseMedianMs, Long checkpointPauseMaxMs, Instant lastCheckpointAt,
      Long enablePauseMs, String reason) {
    this(vm, phase, secondaryHost, syncedBytes, syncTotalBytes, checkpoints, checkpointPauseMedianMs,
        checkpointPauseMaxMs, lastCheckpointAt, enablePauseMs, reason, null, null);
  }

  public static final String NONE = "none";
  public static final String SYNCING = "syncing";
  public static final String PROTECTING = "protecting";
  public static final String PROTECTED = "protected";
  public static final String FAILED = "failed";
  /** the agent stopped the guest: it heard neither the secondary nor the controller (self-fencing) */
  public static final String FENCED = "fenced";
}
