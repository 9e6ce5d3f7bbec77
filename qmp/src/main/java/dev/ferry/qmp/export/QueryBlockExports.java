package dev.ferry.qmp.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.Members;
import java.util.List;

/**
 * {@code query-block-exports}: the block exports of this QEMU, including ones being deleted
 * ({@code shuttingDown}).
 */
public record QueryBlockExports() implements QmpCommand<List<QueryBlockExports.BlockExportInfo>> {

  @Override
  public String name() {
    return "query-block-exports";
  }

  @Override
  public List<BlockExportInfo> parse(JsonNode ret) {
    return Members.list(ret, "query-block-exports return", BlockExportInfo::parse);
  }

  /**
   * QAPI {@code BlockExportInfo}.
   *
   * @param id the export id
   * @param type QAPI {@code BlockExportType}, e.g. {@code nbd}
   * @param nodeName the exported node
   * @param shuttingDown true after {@link BlockExportDel} until {@code BLOCK_EXPORT_DELETED}
   */
  public record BlockExportInfo(String id, String type, String nodeName, boolean shuttingDown) {

    static BlockExportInfo parse(JsonNode export) {
      return new BlockExportInfo(Members.text(export, "id"), Members.text(export, "type"),
          Members.text(export, "node-name"), Members.bool(export, "shutting-down"));
    }
  }
}
