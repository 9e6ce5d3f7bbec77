package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code migrate_cancel} (QAPI spells it with an underscore): cancels an outgoing migration; before
 * completion the source keeps running. The status goes {@code cancelling}, then {@code cancelled}.
 */
public record MigrateCancel() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "migrate_cancel";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
