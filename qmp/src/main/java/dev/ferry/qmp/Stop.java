package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;

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
