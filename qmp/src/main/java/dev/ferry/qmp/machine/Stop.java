package dev.ferry.qmp.machine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;

/** {@code stop}: pauses the guest; QEMU emits {@code STOP}. {@link Cont} resumes it. */
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
