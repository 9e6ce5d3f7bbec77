package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code migrate-continue}: lets a migration paused in a state by the
 * {@code pause-before-switchover} capability go on; Ferry uses it once the mirror jobs are
 * cancelled at {@code pre-switchover}.
 *
 * @param state the QAPI {@code MigrationStatus} the migration is paused in, {@code pre-switchover}
 */
public record MigrateContinue(String state) implements QmpCommand<Void> {

  public MigrateContinue {
    ArgumentMap.requireName(state, "state");
  }

  @Override
  public String name() {
    return "migrate-continue";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("state", state)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
