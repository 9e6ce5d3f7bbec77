package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.qapi.ArgumentMap;
import java.util.List;
import java.util.Map;

/**
 * {@code migrate-set-capabilities}: turns migration capabilities on or off. Set them on both
 * hosts before {@code migrate-incoming} and {@code migrate}; QEMU refuses changes while a
 * migration runs. On the destination, {@code postcopy-ram: true} is itself the userfaultfd probe.
 *
 * @param capabilities QAPI {@code MigrationCapability} names to their state, e.g.
 *     {@code events: true, multifd: true}; sent in the map's iteration order; at least one
 */
public record MigrateSetCapabilities(Map<String, Boolean> capabilities)
    implements QmpCommand<Void> {

  public MigrateSetCapabilities {
    capabilities = ArgumentMap.orderedCopy(capabilities, "capabilities");
    if (capabilities.isEmpty()) {
      throw new IllegalArgumentException("no migration capability to set");
    }
    capabilities.keySet().forEach(c -> ArgumentMap.requireName(c, "capability"));
  }

  @Override
  public String name() {
    return "migrate-set-capabilities";
  }

  /** {@code {capabilities: [{capability: NAME, state: BOOL}, ...]}}. */
  @Override
  public Map<String, ?> arguments() {
    List<Map<String, Object>> list = capabilities.entrySet().stream()
        .map(e -> ArgumentMap.create()
            .with("capability", e.getKey())
            .with("state", e.getValue())
            .build())
        .toList();
    return Map.of("capabilities", list);
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
