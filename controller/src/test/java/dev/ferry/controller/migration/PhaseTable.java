package dev.ferry.controller.migration;

import java.util.Arrays;
import java.util.List;

/**
 * The persisted phases of each migration kind with their side of the point of no return, for the
 * fault matrix (which lives beside the scripted agents in the parent package): its rows come from
 * the enums, so a new phase shows up in docs/faults.md as uncovered instead of missing.
 */
public final class PhaseTable {

  /** A phase as the store spells it, and where it stands. */
  public record Row(String phase, String side) {
    public boolean isFinal() {
      return side.equals("final");
    }

    public boolean pastPointOfNoReturn() {
      return side.equals("past");
    }
  }

  private PhaseTable() {}

  public static List<Row> live() {
    return rows(LivePhase.values());
  }

  public static List<Row> storage() {
    return rows(StoragePhase.values());
  }

  public static List<Row> cold() {
    return rows(ColdPhase.values());
  }

  public static List<Row> warm() {
    return rows(WarmPhase.values());
  }

  /** The phases of one migration kind: live, storage, cold or warm. */
  public static List<Row> of(String kind) {
    return switch (kind) {
      case "live" -> live();
      case "storage" -> storage();
      case "cold" -> cold();
      case "warm" -> warm();
      default -> throw new IllegalArgumentException("no migration kind " + kind);
    };
  }

  private static List<Row> rows(MigrationPhase[] phases) {
    return Arrays.stream(phases).map(p -> new Row(p.text(), p.side().name().toLowerCase(java.util.Locale.ROOT))).toList();
  }
}
