package dev.ferry.controller.ft;

import dev.ferry.api.FtStatusView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a protection's phases learned, stored as JSON with its row: the secondary's listening
 * ports (persisted before the primary is told about them), the last checkpoint figures the
 * primary reported (shown when its agent cannot be asked), the failovers and the last reason.
 * Records only gain fields.
 */
final class FtRecord {
  public String secondaryAddress;
  public Integer nbdPort;
  public Integer migrationPort;
  public Long syncedBytes;
  public Long syncTotalBytes;
  public Long enablePauseMs;
  public long checkpoints;
  public Long pauseMedianMs;
  public Long pauseMaxMs;
  public Instant lastCheckpointAt;
  public Instant since;
  public String reason;
  public List<FtStatusView.Failover> failovers = new ArrayList<>();
  /** disk id → the secondary's replica image, the VM's disk after a takeover */
  public java.util.Map<String, String> replicas;
  public Integer heartbeatPort;
  public String heartbeatToken;
  /** whether a lost secondary is replaced by itself (ft enable without --no-reprotect) */
  public boolean reprotect = true;
  /** the current preparing/syncing builds a new secondary for a VM that ran unprotected */
  public boolean reprotecting;
  /** when the VM last became unprotected (a re-protection counts its time from here) */
  public Instant unprotectedAt;
  /** a host whose re-protection failed, and until when it is not tried again */
  public String reprotectFailedOn;
  /** why no host could take a new secondary at the last look (logged when it changes) */
  public String reprotectWaiting;
  public Instant reprotectRetryAt;
  public List<FtStatusView.Reprotection> reprotections = new ArrayList<>();
  /** per NIC of the VM, where the secondary hears the primary's network proxy */
  public List<dev.ferry.api.agent.FtNicPorts> nicPorts;
  /** the failover under way (phase failing_over) */
  public Pending pending;
  /** a host that may still hold a stale copy of the VM (an old primary): the runner removes it once its agent answers */
  public String staleOn;
  /** whether the old copy on {@code staleOn} goes with its disks (a planned failover) or they are kept (a lost host) */
  public boolean deleteStaleDisks;
  /** the secondary host holds nothing of this protection any more (it took over, or was dropped) */
  public boolean secondaryGone;

  /**
   * A failover as decided. {@code failureAt} is the last sign of life of the primary (its last
   * heartbeat heard), so {@code detectedAt - failureAt} bounds the detection time from above.
   * {@code takeoverAsked} is persisted before the secondary is asked: the point of no return.
   */
  public static final class Pending {
    public String cause;
    public boolean planned;
    public Instant failureAt;
    public Instant detectedAt;
    public boolean takeoverAsked;
  }
}
