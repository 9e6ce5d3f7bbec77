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
}
