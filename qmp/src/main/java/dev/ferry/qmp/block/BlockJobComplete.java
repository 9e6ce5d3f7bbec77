package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code block-job-complete}: asks a READY mirror to switch over (pivot) to its target; the job
 * then concludes with {@code BLOCK_JOB_COMPLETED}.
 *
 * @param device the job id (QAPI calls it {@code device} for historical reasons)
 */
public record BlockJobComplete(String device) implements QmpCommand<Void> {

  public BlockJobComplete {
    ArgumentMap.requireName(device, "device");
  }

  @Override
  public String name() {
    return "block-job-complete";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create()
        .with("device", device)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
