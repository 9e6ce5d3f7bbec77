package dev.ferry.qmp.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.qmp.QmpCommand;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code announce-self}: QEMU sends gratuitous RARP frames from every NIC (and asks a virtio-net
 * guest that supports it to announce itself), so switches and bridges learn the guest's MACs on
 * this host's ports at once. {@code rounds} frames, the first after {@code initialMs}, each later
 * one {@code stepMs} more apart, at most {@code maxMs}.
 */
public record AnnounceSelf(int initialMs, int maxMs, int rounds, int stepMs) implements QmpCommand<Void> {

  public AnnounceSelf {
    if (initialMs < 0 || maxMs < initialMs || rounds < 1 || stepMs < 0) {
      throw new IllegalArgumentException("announce-self parameters initial " + initialMs + ", max " + maxMs + ", rounds "
          + rounds + ", step " + stepMs + " are not valid: 0 <= initial <= max, rounds >= 1, step >= 0");
    }
  }

  @Override
  public String name() {
    return "announce-self";
  }

  @Override
  public Map<String, ?> arguments() {
    var args = new LinkedHashMap<String, Object>();
    args.put("initial", initialMs);
    args.put("max", maxMs);
    args.put("rounds", rounds);
    args.put("step", stepMs);
    return args;
  }

  @Override
  public Void parse(JsonNode ret) {
    return null;
  }

  /** What was sent, for a migration record. */
  public String describe() {
    return "announce-self initial=" + initialMs + "ms max=" + maxMs + "ms rounds=" + rounds + " step=" + stepMs + "ms";
  }
}
