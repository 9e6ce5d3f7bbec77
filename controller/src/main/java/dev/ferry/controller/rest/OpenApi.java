package dev.ferry.controller.rest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The hand-written OpenAPI 3.1 document, {@code openapi.json} next to this class, read once. */
final class OpenApi {

  private static volatile String document;

  private OpenApi() {}

  static String document() {
    String d = document;
    if (d == null) {
      try (InputStream in = OpenApi.class.getResourceAsStream("openapi.json")) {
        if (in == null) throw new IllegalStateException("openapi.json is missing from the controller jar");
        d = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read openapi.json", e);
      }
      document = d;
    }
    return d;
  }
}
