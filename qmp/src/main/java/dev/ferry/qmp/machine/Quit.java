package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/** {@code quit}: QEMU replies, emits {@code SHUTDOWN} and exits, which closes the connection. */
public record Quit() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "quit";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
