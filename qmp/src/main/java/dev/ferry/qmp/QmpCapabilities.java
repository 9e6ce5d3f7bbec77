package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * {@code qmp_capabilities}: leaves capability negotiation mode; QEMU accepts no other command
 * before it. {@link QmpClient#connect} sends it, so callers never need to.
 *
 * @param enable capabilities to enable, e.g. {@code oob}; empty (Ferry's choice) for none
 */
record QmpCapabilities(List<String> enable) implements QmpCommand<Void> {

  public QmpCapabilities {
    enable = List.copyOf(enable);
  }

  /** Enables no capability. */
  public QmpCapabilities() {
    this(List.of());
  }

  @Override
  public String name() {
    return "qmp_capabilities";
  }

  @Override
  public Map<String, ?> arguments() {
    return enable.isEmpty() ? Map.of() : Map.of("enable", enable);
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }
}
