package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * {@code block-job-set-speed}: changes a running job's rate limit.
 *
 * @param device the job id (QAPI calls it {@code device})
 * @param speed bytes per second; 0 for unlimited
 */
public record BlockJobSetSpeed(String device, long speed) implements QmpCommand<Void> {

  public BlockJobSetSpeed {
    ArgumentMap.requireName(device, "device");
    ArgumentMap.requireNonNegative(speed, "speed");
  }

  @Override
  public String name() {
    return "block-job-set-speed";
  }

  @Override
  public Map<String, ?> arguments() {
    return ArgumentMap.create().with("device", device).with("speed", speed).build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
