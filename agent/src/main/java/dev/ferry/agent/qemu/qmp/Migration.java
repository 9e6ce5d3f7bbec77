package dev.ferry.agent.qemu.qmp;

import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.migration.CalcDirtyRate;
import dev.ferry.qmp.migration.MigrateSetCapabilities;
import dev.ferry.qmp.migration.MigrateSetParameters;
import dev.ferry.qmp.migration.QueryDirtyRate;
import dev.ferry.qmp.migration.QueryDirtyRate.DirtyRateInfo;
import dev.ferry.qmp.migration.QueryMigrate;
import dev.ferry.qmp.migration.QueryMigrate.MigrationInfo;
import dev.ferry.qmp.migration.QueryMigrate.SocketAddress;
import java.util.Map;
import java.util.OptionalInt;

/** The migration state of one QEMU, either side, and the settings made before it starts. */
public final class Migration {

  private final Qmp qmp;

  Migration(Qmp qmp) {
    this.qmp = qmp;
  }

  /** What {@code query-migrate} says now. */
  public MigrationInfo query() {
    return qmp.call(new QueryMigrate());
  }

  /**
   * The port an incoming migration listens on, as QEMU bound it ({@code migrate-incoming} on port
   * 0 included); empty before {@code migrate-incoming} and on a source.
   */
  public OptionalInt incomingPort() {
    for (SocketAddress a : query().socketAddress()) {
      if (a.port().isPresent()) return a.port();
    }
    return OptionalInt.empty();
  }

  /** The migration status alone, {@link QemuMigrationStatus#NONE} before any. */
  public QemuMigrationStatus status() {
    return status(query());
  }

  /**
   * The status of a {@code query-migrate} answer in the agent's one vocabulary for it; a status
   * this release does not know reads as {@link QemuMigrationStatus#UNKNOWN}.
   */
  public static QemuMigrationStatus status(MigrationInfo info) {
    return QemuMigrationStatus.of(info.status());
  }

  /**
   * A migration of this QEMU is under way (not yet completed, failed or cancelled). A status this
   * release does not know counts as under way: starting a second migration over it is the risk.
   */
  public static boolean underWay(QemuMigrationStatus status) {
    return switch (status) {
      case NONE, COMPLETED, FAILED, CANCELLED -> false;
      case SETUP, CANCELLING, ACTIVE, POSTCOPY_ACTIVE, POSTCOPY_PAUSED, POSTCOPY_RECOVER_SETUP, POSTCOPY_RECOVER, COLO,
          PRE_SWITCHOVER, DEVICE, WAIT_UNPLUG, GONE, UNKNOWN -> true;
    };
  }

  /** Every capability a migration of Ferry's may switch on. */
  static final java.util.List<String> MANAGED = java.util.List.of("events", "postcopy-ram", "multifd", "xbzrle",
      "auto-converge", "pause-before-switchover");

  /**
   * Sets the managed capabilities to exactly {@code capabilities}: one not named is switched off.
   * A QEMU keeps what an earlier migration set, and a VM that arrived by post-copy (postcopy-ram
   * on) and later left with {@code --postcopy never} asked a target without it for post-copy: the
   * stream broke at once ("Cannot write to TLS channel"). Capabilities outside {@link #MANAGED}
   * (e.g. {@code x-colo}) are set as given and others left alone.
   */
  public void setCapabilities(Map<String, Boolean> capabilities) {
    qmp.call(new MigrateSetCapabilities(exactly(capabilities)));
  }

  static Map<String, Boolean> exactly(Map<String, Boolean> capabilities) {
    var all = new java.util.LinkedHashMap<String, Boolean>();
    for (String c : MANAGED) all.put(c, false);
    all.putAll(capabilities);
    return all;
  }

  /** Sets parameters; nothing to send for none. */
  public void setParameters(Map<String, Object> parameters) {
    if (!parameters.isEmpty()) qmp.call(new MigrateSetParameters(parameters));
  }

  /** The last dirty rate measurement ({@code query-dirty-rate}). */
  public DirtyRateInfo dirtyRate() {
    return qmp.call(new QueryDirtyRate());
  }

  /**
   * Starts a page-sampling dirty rate measurement of {@code calcTimeS} seconds unless one is under
   * way (QEMU refuses a second), and answers the state right after; returns before it is measured.
   */
  public DirtyRateInfo measureDirtyRate(long calcTimeS) {
    DirtyRateInfo now = dirtyRate();
    if (DirtyRateInfo.MEASURING.equals(now.status())) return now;
    qmp.call(CalcDirtyRate.sampling(calcTimeS));
    return dirtyRate();
  }
}
