package dev.ferry.controller.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import io.javalin.http.Context;

/** Writes answers in the API's JSON dialect, errors as {@code application/problem+json}. */
final class Responses {

  private Responses() {}

  static String json(Object value) {
    try {
      return Json.mapper().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
    }
  }

  static void ok(Context ctx, int status, Object value) {
    ctx.status(status).contentType("application/json").result(json(value));
  }

  static void problem(Context ctx, Problem p) {
    if (p.status() == 401) ctx.header("WWW-Authenticate", "Bearer realm=\"ferry\"");
    ctx.status(p.status()).contentType(Problem.MEDIA_TYPE).result(json(p));
  }
}
