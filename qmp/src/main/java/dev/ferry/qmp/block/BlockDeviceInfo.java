package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.qapi.Members;
import java.util.List;
import java.util.OptionalLong;

/**
 * The parts of QAPI {@code BlockDeviceInfo} Ferry reads: one block node, as listed by
 * {@link QueryNamedBlockNodes} and as a device's {@code inserted} medium in {@link QueryBlock}.
 *
 * @param nodeName the node name; QEMU invents {@code #blockNNN} for nodes added without one
 * @param file the image file name (for an NBD node, its {@code nbd+unix://} URI)
 * @param drv the driver, e.g. {@code qcow2}, {@code raw}, {@code file}, {@code nbd}
 * @param ro whether the node is read-only
 * @param virtualSize the guest-visible size in bytes ({@code image.virtual-size}), when QEMU
 *     reports image information; for a file node it is the size of the host file
 * @param dirtyBitmaps the node's dirty bitmaps; empty when it has none
 */
public record BlockDeviceInfo(String nodeName, String file, String drv, boolean ro,
    OptionalLong virtualSize, List<DirtyBitmap> dirtyBitmaps) {

  public BlockDeviceInfo {
    dirtyBitmaps = List.copyOf(dirtyBitmaps);
  }

  static BlockDeviceInfo parse(JsonNode node) {
    OptionalLong virtualSize = Members.optionalObject(node, "image")
        .map(image -> Members.optionalInteger64(image, "virtual-size"))
        .orElse(OptionalLong.empty());
    return new BlockDeviceInfo(Members.text(node, "node-name"), Members.text(node, "file"),
        Members.text(node, "drv"), Members.bool(node, "ro"), virtualSize,
        Members.optionalList(node, "dirty-bitmaps", DirtyBitmap::parse));
  }

  /**
   * QAPI {@code BlockDirtyInfo}.
   *
   * @param name the bitmap name; empty for an anonymous bitmap, such as the one a mirror job
   *     keeps on its source node while it runs (QAPI makes {@code name} optional)
   * @param recording whether it records writes (enabled)
   * @param persistent whether it is stored in the image
   * @param busy whether something uses it (an NBD export, a job), so it cannot be changed
   * @param granularity bytes per bit
   * @param count dirty bytes
   */
  public record DirtyBitmap(String name, boolean recording, boolean persistent, boolean busy,
      long granularity, long count) {

    static DirtyBitmap parse(JsonNode bitmap) {
      return new DirtyBitmap(Members.optionalText(bitmap, "name").orElse(""),
          Members.bool(bitmap, "recording"), Members.bool(bitmap, "persistent"),
          Members.bool(bitmap, "busy"),
          Members.integer64(bitmap, "granularity"), Members.integer64(bitmap, "count"));
    }
  }
}
