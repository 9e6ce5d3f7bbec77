package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code block-dirty-bitmap-clear}: resets every bit of a bitmap.
 *
 * @param node the node (node name or device) the bitmap belongs to
 * @param bitmap the bitmap name (QAPI's {@code name}; a record component of that name would
 *     clash with {@link #name()})
 */
public record BlockDirtyBitmapClear(String node, String bitmap) implements QmpCommand<Void> {

  public BlockDirtyBitmapClear {
    ArgumentMap.requireName(node, "node");
    ArgumentMap.requireName(bitmap, "bitmap");
  }

  @Override
  public String name() {
    return "block-dirty-bitmap-clear";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("node", node)
        .with("name", bitmap)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
