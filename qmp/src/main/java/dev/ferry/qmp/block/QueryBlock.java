package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Optional;

/**
 * {@code query-block}: the guest's block devices (block backends) and the node each one uses.
 * Nodes added by {@code -blockdev}/{@code blockdev-add} that no device uses are not listed; see
 * {@link QueryNamedBlockNodes}.
 */
public record QueryBlock() implements QmpCommand<List<QueryBlock.BlockInfo>> {

  @Override
  public String name() {
    return "query-block";
  }

  @Override
  public List<BlockInfo> parse(JsonNode ret) {
    return Members.list(ret, "query-block return", BlockInfo::parse);
  }

  /**
   * The parts of QAPI {@code BlockInfo} Ferry reads.
   *
   * @param device the legacy drive name; empty for a device attached with {@code -blockdev}
   *     ({@code drive=NODE}), as Ferry attaches them
   * @param qdev the device's QOM path, e.g. {@code /machine/peripheral/vblk0/virtio-backend}
   * @param inserted the node the device uses (its root node), when it has a medium
   */
  public record BlockInfo(String device, Optional<String> qdev,
      Optional<BlockDeviceInfo> inserted) {

    static BlockInfo parse(JsonNode info) {
      return new BlockInfo(Members.text(info, "device"), Members.optionalText(info, "qdev"),
          Members.optionalObject(info, "inserted").map(BlockDeviceInfo::parse));
    }
  }
}
