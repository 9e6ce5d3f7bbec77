package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.qapi.Members;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The greeting QEMU sends when a client connects: {@code {"QMP": {"version": ..., "capabilities":
 * [...]}}}.
 *
 * @param version the QEMU version
 * @param capabilities what the server offers, e.g. {@code oob}; Ferry enables none of them
 */
public record QmpGreeting(VersionInfo version, List<String> capabilities) {

  public QmpGreeting {
    Objects.requireNonNull(version, "version");
    capabilities = List.copyOf(capabilities);
  }

  static QmpGreeting parse(JsonNode qmp) {
    JsonNode list = qmp.get("capabilities");
    if (list == null || !list.isArray()) {
      throw new IllegalArgumentException("greeting has no 'capabilities' array");
    }
    List<String> capabilities = new ArrayList<>();
    list.forEach(capability -> capabilities.add(capability.asText()));
    return new QmpGreeting(VersionInfo.parse(Members.object(qmp, "version")), capabilities);
  }
}
