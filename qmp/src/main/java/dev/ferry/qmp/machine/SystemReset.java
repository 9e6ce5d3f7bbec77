package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code system_reset}: resets the machine as the reset button does. A guest that powered off
 * under {@code set-action shutdown=pause} boots again after this and a {@link Cont}.
 */
public record SystemReset() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "system_reset";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
