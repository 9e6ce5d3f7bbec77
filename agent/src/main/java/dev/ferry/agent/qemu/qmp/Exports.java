package dev.ferry.agent.qemu.qmp;

import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.qmp.export.BlockExportAdd;
import dev.ferry.qmp.export.BlockExportDel;
import dev.ferry.qmp.export.QueryBlockExports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The NBD exports of one QEMU's built-in server; each is named as its id. */
public final class Exports {

  /** How long {@code block-export-del} may take to let go of the export. */
  static final Duration DELETED = Duration.ofSeconds(10);

  private final Qmp qmp;

  Exports(Qmp qmp) {
    this.qmp = qmp;
  }

  /** The ids of the exports, including ones being deleted. */
  public List<String> ids() {
    var ids = new ArrayList<String>();
    for (QueryBlockExports.BlockExportInfo e : qmp.call(new QueryBlockExports())) ids.add(e.id());
    return ids;
  }

  /** Exports {@code node} as {@code id}, offering {@code bitmaps} as dirty-bitmap contexts. */
  public void add(String id, String node, boolean writable, List<String> bitmaps) {
    qmp.call(new BlockExportAdd(id, node, id, writable, bitmaps));
  }

  /**
   * Removes export {@code id} if it exists; {@code hard} drops a connected client too.
   * {@code block-export-del} is asynchronous: waits for {@code BLOCK_EXPORT_DELETED} before the
   * id may be reused. A refusal or a missing event counts only while the export is still listed.
   */
  public void deleteIfPresent(String id, boolean hard) {
    if (!ids().contains(id)) return;
    try {
      qmp.call(hard ? new BlockExportDel(id, BlockExportDel.Mode.HARD) : new BlockExportDel(id));
      qmp.awaitEvent(e -> e.name().equals("BLOCK_EXPORT_DELETED") && e.data().path("id").asText().equals(id), DELETED);
    } catch (QmpErrorException | QmpTimeoutException e) {
      if (ids().contains(id)) throw e;
    }
  }
}
