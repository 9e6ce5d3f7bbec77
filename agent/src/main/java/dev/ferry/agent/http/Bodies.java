package dev.ferry.agent.http;

import dev.ferry.agent.AgentException;
import dev.ferry.api.problem.BadBody;
import dev.ferry.api.problem.RequestBodies;
import java.io.InputStream;

/** The shared {@link RequestBodies} reader, its refusals as the agent's own exception root. */
final class Bodies {

  private Bodies() {}

  /** Refuses a declared length over the limit, after draining; -1 means not declared. */
  static void refuseOversized(long contentLength, RequestBodies.Body body) {
    try {
      RequestBodies.refuseOversized(contentLength, body);
    } catch (BadBody b) {
      throw AgentException.of(b);
    }
  }

  static <T> T read(InputStream in, Class<T> type) {
    try {
      return RequestBodies.read(in, -1, type);
    } catch (BadBody b) {
      throw AgentException.of(b);
    }
  }
}
