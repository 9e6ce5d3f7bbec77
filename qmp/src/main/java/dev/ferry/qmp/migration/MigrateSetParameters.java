package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.Map;

/**
 * {@code migrate-set-parameters}: sets migration parameters, e.g. {@code max-bandwidth} (bytes
 * per second; QEMU 7.2's default of 128 MiB/s is what stops a busy guest from converging),
 * {@code downtime-limit} (ms), {@code multifd-channels}, {@code xbzrle-cache-size},
 * {@code cpu-throttle-initial}. Unlike capabilities, most may change during a migration.
 *
 * @param parameters QAPI {@code MigrateSetParameters} members (dashed names) to values; sent as
 *     given, in the map's iteration order; at least one
 */
public record MigrateSetParameters(Map<String, Object> parameters) implements QmpCommand<Void> {

  public MigrateSetParameters {
    parameters = ArgumentMap.orderedCopy(parameters, "parameters");
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException("no migration parameter to set");
    }
  }

  @Override
  public String name() {
    return "migrate-set-parameters";
  }

  @Override
  public Map<String, ?> arguments() {
    return parameters;
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
