package dev.ferry.qmp.block;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code block-job-set-speed}: changes the rate limit of a running block job. QEMU's mirror
 * applies it from its next 100 ms slice on.
 *
 * @param device the job id
 * @param speed bytes per second, 0 for no limit
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
    return ArgumentMap.create()
        .with("device", device)
        .with("speed", speed)
        .build();
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
