package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.Map;

/**
 * {@code query-named-block-nodes}: the block nodes of this QEMU. Ferry uses it to observe before
 * acting ("is node {@code tgt0} already there? does {@code disk0} have bitmap {@code bm0}?").
 *
 * @param flat true to list each node once without its backing chain nested inside; Ferry's
 *     choice, since it looks nodes up by name
 */
public record QueryNamedBlockNodes(boolean flat)
    implements QmpCommand<List<BlockDeviceInfo>> {

  /** The flat listing. */
  public QueryNamedBlockNodes() {
    this(true);
  }

  @Override
  public String name() {
    return "query-named-block-nodes";
  }

  @Override
  public Map<String, ?> arguments() {
    return Map.of("flat", flat);
  }

  @Override
  public List<BlockDeviceInfo> parse(JsonNode ret) {
    return Members.list(ret, "query-named-block-nodes return", BlockDeviceInfo::parse);
  }
}
