package dev.ferry.agent.qemu.qmp;

import dev.ferry.api.agent.QemuMigrationStatus;
import dev.ferry.qmp.migration.MigrateSetCapabilities;
import dev.ferry.qmp.migration.MigrateSetParameters;
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

  /** Sets capabilities; nothing to send for none. */
  public void setCapabilities(Map<String, Boolean> capabilities) {
    if (!capabilities.isEmpty()) qmp.call(new MigrateSetCapabilities(capabilities));
  }

  /** Sets parameters; nothing to send for none. */
  public void setParameters(Map<String, Object> parameters) {
    if (!parameters.isEmpty()) qmp.call(new MigrateSetParameters(parameters));
  }
}
