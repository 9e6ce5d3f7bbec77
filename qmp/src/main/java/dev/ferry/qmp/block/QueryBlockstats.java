package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Optional;

/**
 * {@code query-blockstats}: I/O counters of every guest device (block backend), cumulative since
 * QEMU started. They count what the guest sees: a write's time runs from the device's request to
 * its completion, so with a write-blocking mirror it includes the copy to the mirror's target.
 */
public record QueryBlockstats() implements QmpCommand<List<QueryBlockstats.BlockStats>> {

  @Override
  public String name() {
    return "query-blockstats";
  }

  @Override
  public List<BlockStats> parse(JsonNode ret) {
    return Members.list(ret, "query-blockstats return", BlockStats::parse);
  }

  /**
   * The parts of QAPI {@code BlockStats} Ferry reads.
   *
   * @param qdev the device's QOM path or id, e.g. {@code /machine/peripheral/disk0-dev/virtio-backend}
   * @param nodeName the device's root node; a mirror's filter node while a mirror runs, so a device
   *     is found by {@code qdev}, not by this
   * @param wrOperations writes completed (QAPI {@code BlockDeviceStats.wr_operations})
   * @param wrTotalTimeNs total time those writes took, nanoseconds ({@code wr_total_time_ns})
   */
  public record BlockStats(Optional<String> qdev, Optional<String> nodeName, long wrOperations,
      long wrTotalTimeNs) {

    static BlockStats parse(JsonNode s) {
      JsonNode stats = Members.object(s, "stats");
      return new BlockStats(Members.optionalText(s, "qdev"), Members.optionalText(s, "node-name"),
          Members.integer64(stats, "wr_operations"), Members.integer64(stats, "wr_total_time_ns"));
    }
  }
}
