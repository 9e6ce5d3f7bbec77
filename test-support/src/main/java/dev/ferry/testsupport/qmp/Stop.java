package dev.ferry.testsupport.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/** {@code stop}: pauses the guest's vCPUs; QEMU emits {@code STOP}. */
public record Stop() implements QmpCommand<Void> {

  @Override
  public String name() {
    return "stop";
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
