package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code block-dirty-bitmap-add}: starts tracking the writes to a node in a new bitmap. Add it
 * before the full copy, so every write after that copy began is in the bitmap.
 *
 * @param node the node (node name or device) to track
 * @param bitmap the bitmap name (QAPI's {@code name}; a record component of that name would clash
 *     with {@link #name()})
 * @param granularity bytes per bit, a power of two of at least 512; QEMU's default (the cluster
 *     size, usually 64 KiB) when empty
 * @param persistent store the bitmap in the qcow2 image on close; QEMU's default (false) when
 *     empty
 * @param disabled create it not recording; QEMU's default (false, recording) when empty
 */
public record BlockDirtyBitmapAdd(String node, String bitmap, OptionalLong granularity,
    Optional<Boolean> persistent, Optional<Boolean> disabled) implements QmpCommand<Void> {

  public BlockDirtyBitmapAdd {
    ArgumentMap.requireName(node, "node");
    ArgumentMap.requireName(bitmap, "bitmap");
    Objects.requireNonNull(granularity, "granularity");
    Objects.requireNonNull(persistent, "persistent");
    Objects.requireNonNull(disabled, "disabled");
    granularity.ifPresent(g -> ArgumentMap.requireGranularity(g, "granularity"));
  }

  /** A recording, non-persistent bitmap with QEMU's default granularity. */
  public BlockDirtyBitmapAdd(String node, String bitmap) {
    this(node, bitmap, OptionalLong.empty(), Optional.empty(), Optional.empty());
  }

  /** A recording, non-persistent bitmap of {@code granularity} bytes per bit. */
  public BlockDirtyBitmapAdd(String node, String bitmap, long granularity) {
    this(node, bitmap, OptionalLong.of(granularity), Optional.empty(), Optional.empty());
  }

  @Override
  public String name() {
    return "block-dirty-bitmap-add";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("node", node)
        .with("name", bitmap)
        .withOptional("granularity", granularity)
        .withOptional("persistent", persistent)
        .withOptional("disabled", disabled)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
