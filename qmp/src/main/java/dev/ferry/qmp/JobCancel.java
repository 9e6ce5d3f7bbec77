package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code job-cancel}: cancels a job by id (the generic job API). For a READY mirror this behaves
 * like {@link BlockJobCancel} without {@code force}: it completes without pivoting.
 *
 * @param id the job id
 */
public record JobCancel(String id) implements QmpCommand<Void> {

  public JobCancel {
    ArgumentMap.requireName(id, "id");
  }

  @Override
  public String name() {
    return "job-cancel";
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
