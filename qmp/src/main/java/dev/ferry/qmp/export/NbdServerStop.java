package dev.ferry.qmp.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/**
 * {@code nbd-server-stop}: stops the built-in NBD server and removes every NBD export (the
 * exports' {@code BLOCK_EXPORT_DELETED} events follow).
 */
public record NbdServerStop() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "nbd-server-stop";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
