package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code job-dismiss}: removes a concluded job, so its id can be reused; needed for every job
 * started with {@code auto-dismiss: false}.
 *
 * @param id the job id
 */
public record JobDismiss(String id) implements QmpCommand<Void> {

  public JobDismiss {
    ArgumentMap.requireName(id, "id");
  }

  @Override
  public String name() {
    return "job-dismiss";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("id", id)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
