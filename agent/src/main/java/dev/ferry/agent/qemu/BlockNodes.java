package dev.ferry.agent.qemu;

/**
 * The two block nodes QEMU holds for one disk: the protocol layer ({@code file}) and the format
 * layer ({@code format}, what a device, a mirror or an export names). A VM starts with
 * {@code <id>-file} / {@code <id>}; after a live storage move the running QEMU uses the nodes the
 * move added, and every later block operation on that disk must name those.
 */
public record BlockNodes(String file, String format) {

  public BlockNodes {
    if (file == null || format == null || file.isBlank() || format.isBlank()) {
      throw new IllegalArgumentException("block nodes need a file and a format node name");
    }
  }

  /** The nodes a freshly started QEMU has for {@code disk}. */
  public static BlockNodes initial(DiskSpec disk) {
    return new BlockNodes(disk.fileNode(), disk.formatNode());
  }
}
