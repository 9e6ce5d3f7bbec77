package dev.ferry.qmp.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code block-export-del}: removes an export. Asynchronous: QEMU replies at once and emits
 * {@code BLOCK_EXPORT_DELETED} when the export is gone; wait for it before reusing the id or
 * removing the exported bitmaps.
 *
 * @param id the export id
 * @param mode QEMU's default ({@code safe}) when empty
 */
public record BlockExportDel(String id, Optional<Mode> mode) implements QmpCommand<Void> {

  /** QAPI {@code BlockExportRemoveMode}. */
  public enum Mode {
    /** fail while clients are connected */
    SAFE("safe"),
    /** disconnect clients */
    HARD("hard");

    private final String qapi;

    Mode(String qapi) {
      this.qapi = qapi;
    }

    /** The value on the wire. */
    public String qapi() {
      return qapi;
    }
  }

  public BlockExportDel {
    ArgumentMap.requireName(id, "id");
    Objects.requireNonNull(mode, "mode");
  }

  /** In QEMU's default mode, {@code safe}. */
  public BlockExportDel(String id) {
    this(id, Optional.empty());
  }

  /** In {@code mode}. */
  public BlockExportDel(String id, Mode mode) {
    this(id, Optional.of(mode));
  }

  @Override
  public String name() {
    return "block-export-del";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("id", id).withOptional("mode", mode.map(Mode::qapi)).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
