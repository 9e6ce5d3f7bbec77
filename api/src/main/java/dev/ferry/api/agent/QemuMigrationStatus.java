package dev.ferry.api.agent;

import com.fasterxml.jackson.annotation.JsonEnumDefaultValue;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * QEMU's migration status (QAPI {@code MigrationStatus}) as an agent relays it from
 * {@code query-migrate}, in QEMU's own spelling ({@code postcopy-active}), plus {@link #GONE} when
 * no QEMU runs. A status this release does not know reads as {@link #UNKNOWN}.
 */
public enum QemuMigrationStatus {
  /** no migration has run on this QEMU (also when QEMU leaves the member out) */
  NONE("none"),
  SETUP("setup"),
  CANCELLING("cancelling"),
  CANCELLED("cancelled"),
  /** pre-copy streams RAM */
  ACTIVE("active"),
  /** post-copy: the guest runs on the target, which fetches missing pages from the source */
  POSTCOPY_ACTIVE("postcopy-active"),
  /** post-copy with a broken stream: both sides wait for {@code migrate-recover} */
  POSTCOPY_PAUSED("postcopy-paused"),
  POSTCOPY_RECOVER_SETUP("postcopy-recover-setup"),
  /** post-copy reconnecting after a pause */
  POSTCOPY_RECOVER("postcopy-recover"),
  COMPLETED("completed"),
  FAILED("failed"),
  COLO("colo"),
  /** paused before switchover ({@code pause-before-switchover}), waiting for {@code migrate-continue} */
  PRE_SWITCHOVER("pre-switchover"),
  /** device state is being sent, the guest stopped */
  DEVICE("device"),
  WAIT_UNPLUG("wait-unplug"),
  /** Ferry's own: the agent has no QEMU for this VM any more */
  GONE("gone"),
  /** a status of a newer QEMU (or agent) this release does not know */
  @JsonEnumDefaultValue
  UNKNOWN("unknown");

  private final String qemu;

  QemuMigrationStatus(String qemu) {
    this.qemu = qemu;
  }

  /** The status QEMU names {@code text}; {@link #NONE} for null or empty, {@link #UNKNOWN} for one not listed here. */
  public static QemuMigrationStatus of(String text) {
    if (text == null || text.isEmpty()) return NONE;
    for (QemuMigrationStatus s : values()) {
      if (s.qemu.equals(text)) return s;
    }
    return UNKNOWN;
  }

  /** Any post-copy state: the guest's newest memory is split between the hosts. */
  public boolean postcopy() {
    return switch (this) {
      case POSTCOPY_ACTIVE, POSTCOPY_PAUSED, POSTCOPY_RECOVER_SETUP, POSTCOPY_RECOVER -> true;
      default -> false;
    };
  }

  /** QEMU's spelling, which is also the JSON text. */
  @JsonValue
  public String qemu() {
    return qemu;
  }

  @Override
  public String toString() {
    return qemu;
  }
}
