package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code migrate-pause}: forces a {@code postcopy-active} migration into {@code postcopy-paused}
 * (on either side), e.g. to move it to another network path with {@link MigrateRecover}.
 */
public record MigratePause() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "migrate-pause";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
