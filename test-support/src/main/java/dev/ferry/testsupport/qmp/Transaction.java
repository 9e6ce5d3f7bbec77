package dev.ferry.testsupport.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.block.BlockDirtyBitmapAdd;
import dev.ferry.qmp.block.BlockDirtyBitmapDisable;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code transaction}: runs several actions atomically; if one fails, none takes effect. Tests
 * use it to rotate dirty bitmaps: add the next bitmap and disable the current one at the same
 * instant, so no write is in neither (an enabled bitmap cannot be exported read-only).
 *
 * @param actions the actions, in order; at least one
 */
public record Transaction(List<Action> actions) implements QmpCommand<Void> {

  /** QAPI {@code TransactionAction} types that QEMU 7.2 accepts. */
  static final Set<String> TYPES = Set.of("abort", "block-dirty-bitmap-add",
      "block-dirty-bitmap-remove", "block-dirty-bitmap-clear", "block-dirty-bitmap-enable",
      "block-dirty-bitmap-disable", "block-dirty-bitmap-merge", "blockdev-backup",
      "blockdev-snapshot", "blockdev-snapshot-internal-sync", "blockdev-snapshot-sync",
      "drive-backup");

  public Transaction {
    actions = List.copyOf(actions);
    if (actions.isEmpty()) {
      throw new IllegalArgumentException("a transaction needs at least one action");
    }
  }

  /** A transaction of {@code actions}, in order. */
  public static Transaction of(Action... actions) {
    return new Transaction(List.of(actions));
  }

  /**
   * One action: its {@code type} (the name of the command it stands for) and {@code data} (that
   * command's arguments).
   */
  public record Action(String type, Map<String, Object> data) {

    public Action {
      ArgumentMap.requireName(type, "type");
      if (!TYPES.contains(type)) {
        throw new IllegalArgumentException("not a transaction action type: " + type);
      }
      data = ArgumentMap.orderedCopy(data, "data");
    }

    /** The action doing what {@code command} does, e.g. a {@link BlockDirtyBitmapDisable}. */
    public static Action of(QmpCommand<Void> command) {
      return new Action(command.name(), ArgumentMap.orderedCopy(command.arguments(), "data"));
    }

    /** {@code block-dirty-bitmap-add}: a recording bitmap of {@code granularity} bytes per bit. */
    public static Action bitmapAdd(String node, String bitmap, long granularity) {
      return of(new BlockDirtyBitmapAdd(node, bitmap, granularity));
    }

    /** {@code block-dirty-bitmap-disable}: the bitmap stops recording. */
    public static Action bitmapDisable(String node, String bitmap) {
      return of(new BlockDirtyBitmapDisable(node, bitmap));
    }
  }

  @Override
  public String name() {
    return "transaction";
  }

  @Override
  public Map<String, ?> arguments() {
    return Map.of("actions",
        actions.stream()
        .map(a -> ArgumentMap.create().with("type", a.type()).with("data", a.data()).build())
        .toList());
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
