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

  /** The body as {@code type}; what it names becomes the audit record's target unless the path named one. */
  static <T> T read(Context ctx, Class<T> type) {
    try {
      T body = RequestBodies.read(ctx.req().getInputStream(), ctx.req().getContentLengthLong(), type);
      if (ctx.attribute(AuditTrail.TARGET) == null) ctx.attribute(AuditTrail.TARGET, AuditTrail.targetOf(body));
      return body;
    } catch (java.io.IOException e) {
      throw ControllerException.invalid("body", "", "a complete JSON object",
          "request body could not be read: " + e.getMessage());
    } catch (BadBody b) {
      throw ControllerException.of(b);
    }
  }
}
