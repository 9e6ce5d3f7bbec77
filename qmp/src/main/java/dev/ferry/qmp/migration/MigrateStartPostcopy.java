package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code migrate-start-postcopy}: switches a running pre-copy migration to post-copy; needs the
 * {@code postcopy-ram} capability on both sides before {@code migrate}. From here on the
 * destination owns the guest's newest state: a failure can no longer be rolled back to the source.
 */
public record MigrateStartPostcopy() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "migrate-start-postcopy";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
