package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code block-dirty-bitmap-remove}: deletes a dirty bitmap; fails while an NBD export uses it.
 *
 * @param node the node (node name or device) the bitmap belongs to
 * @param bitmap the bitmap name (QAPI's {@code name}; a record component of that name would
 *     clash with {@link #name()})
 */
public record BlockDirtyBitmapRemove(String node, String bitmap) implements QmpCommand<Void> {

  public BlockDirtyBitmapRemove {
    ArgumentMap.requireName(node, "node");
    ArgumentMap.requireName(bitmap, "bitmap");
  }

  @Override
  public String name() {
    return "block-dirty-bitmap-remove";
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
