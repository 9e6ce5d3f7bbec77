package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code system_powerdown}: presses the ACPI power button; the guest decides whether and when to
 * shut down.
 */
public record SystemPowerdown() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "system_powerdown";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
