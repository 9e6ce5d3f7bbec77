package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code blockdev-del}: removes a node added by {@code blockdev-add}; it must be unused
 * (no device, job, export or parent node). Delete a format node before its file node.
 *
 * @param nodeName the node to remove
 */
public record BlockdevDel(String nodeName) implements QmpCommand<Void> {

  public BlockdevDel {
    ArgumentMap.requireName(nodeName, "node-name");
  }

  @Override
  public String name() {
    return "blockdev-del";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("node-name", nodeName)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
