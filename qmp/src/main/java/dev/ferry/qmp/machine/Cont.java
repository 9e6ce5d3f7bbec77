package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code cont}: resumes a paused guest, also one started with {@code -S} or one that arrived by
 * migration; QEMU emits {@code RESUME}.
 */
public record Cont() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "cont";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
