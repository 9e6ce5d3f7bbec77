package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code query-migrate-capabilities}: every migration capability this QEMU knows and its state,
 * as a map from the QAPI {@code MigrationCapability} name to whether it is on, in QEMU's order.
 * A name missing from the map is a capability this QEMU does not have.
 */
public record QueryMigrateCapabilities() implements QmpCommand<Map<String, Boolean>> {

  @Override
  public String name() {
    return "query-migrate-capabilities";
  }

  @Override
  public Map<String, Boolean> parse(JsonNode ret) {
    Map<String, Boolean> states = new LinkedHashMap<>();
    Members.list(ret, "query-migrate-capabilities return",
            c -> Map.entry(Members.text(c, "capability"), Members.bool(c, "state")))
        .forEach(e -> states.put(e.getKey(), e.getValue()));
    return Collections.unmodifiableMap(states);
  }
}
