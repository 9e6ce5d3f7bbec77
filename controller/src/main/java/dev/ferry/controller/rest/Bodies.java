package dev.ferry.controller.rest;

import dev.ferry.api.problem.BadBody;
import dev.ferry.api.problem.RequestBodies;
import dev.ferry.controller.ControllerException;
import io.javalin.http.Context;

/** The shared {@link RequestBodies} reader, its refusals as the controller's own exception root. */
final class Bodies {

  private Bodies() {}

  /** Refuses a declared length over the limit, after draining; for the before-request hook. */
  static void refuseOversized(Context ctx) {
    try {
      RequestBodies.refuseOversized(ctx.req().getContentLengthLong(), () -> ctx.req().getInputStream());
    } catch (BadBody b) {
      throw ControllerException.of(b);
    }
  }

  static <T> T read(Context ctx, Class<T> type) {
    try {
      return RequestBodies.read(ctx.req().getInputStream(), ctx.req().getContentLengthLong(), type);
    } catch (java.io.IOException e) {
      throw ControllerException.invalid("body", "", "a complete JSON object",
          "request body could not be read: " + e.getMessage());
    } catch (BadBody b) {
      throw ControllerException.of(b);
    }
  }
}
