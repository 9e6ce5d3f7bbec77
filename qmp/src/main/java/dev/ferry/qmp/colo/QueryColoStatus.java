package dev.ferry.qmp.colo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;

/**
 * {@code query-colo-status}: this QEMU's COLO role. After {@link XColoLostHeartbeat} the mode goes
 * to {@code none} once the failover finished; poll until it does.
 */
public record QueryColoStatus() implements QmpCommand<QueryColoStatus.ColoStatus> {

  @Override
  public String name() {
    return "query-colo-status";
  }

  @Override
  public ColoStatus parse(JsonNode ret) {
    return new ColoStatus(Members.text(ret, "mode"), Members.text(ret, "last-mode"), Members.text(ret, "reason"));
  }

  /**
   * QAPI {@code COLOStatus}.
   *
   * @param mode QAPI {@code COLOMode}: {@code none}, {@code primary} or {@code secondary}
   * @param lastMode the mode before the last failover ({@code none} if there was none)
   * @param reason QAPI {@code COLOExitReason}: {@code none}, {@code request}, {@code error},
   *     {@code processing} (a failover is under way)
   */
  public record ColoStatus(String mode, String lastMode, String reason) {
    public static final String NONE = "none";
  }
}
