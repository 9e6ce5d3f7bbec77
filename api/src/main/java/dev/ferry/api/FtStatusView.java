package dev.ferry.api;

import java.time.Instant;
import java.util.List;

/**
 * A VM's fault tolerance, as {@code ferry ft status} shows it.
 *
 * @param state             {@code syncing} (with {@code syncedBytes}/{@code syncTotalBytes}),
 *                          {@code protected}, {@code failing_over}, {@code unprotected} (running,
 *                          no secondary; {@code reason} says why), {@code reprotecting}, or
 *                          {@code disabling} while {@code ft disable} (or a failed enable) takes
 *                          the secondary down
 * @param phase             the controller's persisted phase behind the state
 * @param checkpoints       COLO checkpoints since protection started
 * @param checkpointPauseMs the guest's pause per checkpoint over the last minute; null fields
 *                          without a checkpoint in that minute
 * @param lastCheckpointAt  when the last checkpoint ended
 * @param failovers         every failover of this protection, oldest first
 * @param reprotect         whether a lost secondary is replaced by itself ({@code ft enable
 *                          --no-reprotect}: false)
 * @param reprotections     every automatic re-protection that reached {@code protected}, oldest first
 */
public record FtStatusView(
    String vm,
    String state,
    String phase,
    String primary,
    String secondary,
    int checkpointIntervalMs,
    long checkpoints,
    Pause checkpointPauseMs,
    Instant lastCheckpointAt,
    Long syncedBytes,
    Long syncTotalBytes,
    Long enablePauseMs,
    List<Failover> failovers,
    String reason,
    Instant since,
    boolean reprotect,
    List<Reprotection> reprotections) {

  /** Median and maximum of the last minute's checkpoint pauses, in milliseconds. */
  public record Pause(Long median, Long max) {}

  /**
   * One failover: {@code detectedMs} from the failure to its detection, {@code takeoverMs} from
   * the detection to the survivor running.
   */
  public record Failover(Instant at, String cause, Long detectedMs, Long takeoverMs, String from, String to) {}

  /**
   * One automatic re-protection: {@code tookMs} from the VM becoming unprotected to protected
   * again with the new {@code secondary}, {@code guestPauseMs} the guest's pause at its switch
   * into COLO (the rest of it ran while the guest did).
   */
  public record Reprotection(Instant at, String secondary, long tookMs, Long guestPauseMs) {}
}
