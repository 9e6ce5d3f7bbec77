package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code job-finalize}: finalizes a PENDING job started with {@code auto-finalize: false}.
 *
 * @param id the job id
 */
public record JobFinalize(String id) implements QmpCommand<Void> {

  public JobFinalize {
    ArgumentMap.requireName(id, "id");
  }

  @Override
  public String name() {
    return "job-finalize";
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
