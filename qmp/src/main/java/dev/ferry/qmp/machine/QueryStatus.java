package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;

/** {@code query-status}: whether the guest runs, and QEMU's run state. */
public record QueryStatus() implements QmpCommand<QueryStatus.StatusInfo> {

  @Override
  public String name() {
    return "query-status";
  }

  @Override
  public StatusInfo parse(JsonNode ret) {
    return new StatusInfo(Members.text(ret, "status"), Members.bool(ret, "running"));
  }

  /**
   * QAPI {@code StatusInfo}.
   *
   * @param status QAPI {@code RunState}, e.g. {@code running}, {@code paused}, {@code prelaunch},
   *     {@code inmigrate}, {@code postmigrate}, {@code shutdown}
   * @param running whether the vCPUs are running
   */
  public record StatusInfo(String status, boolean running) {}
}
