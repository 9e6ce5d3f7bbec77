package dev.ferry.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.OptionalLong;

/** One message from the server, as the QMP specification (docs/interop/qmp-spec) names them. */
sealed interface QmpMessage {

  /** {@code {"QMP": {...}}}, sent once, first. */
  record Greeting(QmpGreeting greeting) implements QmpMessage {}

  /** {@code {"return": ..., "id": ...}}; the id is empty when absent or not one of ours. */
  record SuccessResponse(OptionalLong id, JsonNode value) implements QmpMessage {}

  /** {@code {"error": {"class": ..., "desc": ...}, "id": ...}}. */
  record ErrorResponse(OptionalLong id, String errorClass, String desc) implements QmpMessage {}

  /** {@code {"event": ..., "data": ..., "timestamp": ...}}. */
  record Event(QmpEvent event) implements QmpMessage {}

  /** A JSON object of no known kind; logged and dropped rather than fatal. */
  record Unknown(JsonNode message) implements QmpMessage {}
}
