package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code transaction}: several block actions applied atomically (all or none). A warm pass
 * rotates dirty bitmaps with it: {@code block-dirty-bitmap-add} of the next bitmap and
 * {@code block-dirty-bitmap-disable} of the current one in one step, so no guest write falls
 * between the two.
 *
 * @param actions the actions, each a command whose name is a QAPI {@code TransactionAction} type
 *     (e.g. {@link BlockDirtyBitmapAdd}, {@link BlockDirtyBitmapDisable})
 */
public record Transaction(List<QmpCommand<Void>> actions) implements QmpCommand<Void> {

  public Transaction {
    actions = List.copyOf(actions);
    if (actions.isEmpty()) throw new IllegalArgumentException("a transaction needs at least one action");
  }

  @Override
  public String name() {
    return "transaction";
  }

  @Override
  public Map<String, ?> arguments() {
    List<Map<String, Object>> list = new ArrayList<>();
    for (QmpCommand<Void> a : actions) {
      list.add(ArgumentMap.create().with("type", a.name()).with("data", a.arguments()).build());
    }
    return ArgumentMap.create().with("actions", list).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
