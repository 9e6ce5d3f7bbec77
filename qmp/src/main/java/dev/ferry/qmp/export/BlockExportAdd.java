package dev.ferry.qmp.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.List;
import java.util.Map;

/**
 * {@code block-export-add} with {@code type: nbd}: exports a node over the server started by
 * {@link NbdServerStart}.
 *
 * @param id the export id, for {@link BlockExportDel} and {@code BLOCK_EXPORT_DELETED}
 * @param nodeName the node to export
 * @param exportName the NBD export name clients ask for (QAPI's {@code name}; a record component
 *     of that name would clash with {@link #name()})
 * @param writable whether clients may write
 * @param bitmaps dirty bitmaps of {@code nodeName} to offer as the metadata contexts
 *     {@code qemu:dirty-bitmap:NAME}; each must be disabled for a read-only export, or QEMU
 *     answers {@code "Enabled bitmap 'bm0' incompatible with readonly export"}. Empty for none
 *     (the member is then left out).
 */
public record BlockExportAdd(String id, String nodeName, String exportName, boolean writable,
    List<String> bitmaps) implements QmpCommand<Void> {

  public BlockExportAdd {
    ArgumentMap.requireName(id, "id");
    ArgumentMap.requireName(nodeName, "nodeName");
    ArgumentMap.requireName(exportName, "exportName");
    bitmaps = List.copyOf(bitmaps);
    bitmaps.forEach(b -> ArgumentMap.requireName(b, "bitmap"));
  }

  /** An export without bitmaps. */
  public BlockExportAdd(String id, String nodeName, String exportName, boolean writable) {
    this(id, nodeName, exportName, writable, List.of());
  }

  @Override
  public String name() {
    return "block-export-add";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("type", "nbd")
        .with("id", id)
        .with("node-name", nodeName)
        .with("name", exportName)
        .with("writable", writable)
        .withNonEmpty("bitmaps", bitmaps)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
