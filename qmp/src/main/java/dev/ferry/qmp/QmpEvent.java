package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * An asynchronous QMP event, e.g. {@code MIGRATION}, {@code BLOCK_JOB_READY}, {@code STOP}.
 *
 * @param name the event name as in QEMU's QAPI schema
 * @param data the event's {@code data} member; an empty object for events without one. The same
 *     node is handed to every listener: treat it as read-only.
 * @param timestamp when QEMU emitted the event (its {@code timestamp} member, microsecond
 *     precision)
 */
public record QmpEvent(String name, JsonNode data, Instant timestamp) {

  public QmpEvent {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(timestamp, "timestamp");
  }
}
