package dev.ferry.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A plain HTTP client for agent tests: what a controller or curl would send, nothing typed. */
public final class HttpTestClient {

  /** A response: status, content type and body text. */
  public record Reply(int status, String contentType, String body) {
    public JsonNode json() {
      try {
        return Json.mapper().readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (" + status + "): " + body, e);
      }
    }

    public <T> T as(Class<T> type) {
      try {
        return Json.mapper().readValue(body, type);
      } catch (IOException e) {
        throw new AssertionError("not a " + type.getSimpleName() + " (" + status + "): " + body, e);
      }
    }
  }

  private final String base;
  private final String token;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public HttpTestClient(String base, String token) {
    this.base = base;
    this.token = token;
  }

  public Reply get(String path) {
    return send("GET", path, null);
  }

  public Reply delete(String path) {
    return send("DELETE", path, null);
  }

  public Reply put(String path, Object body) {
    return send("PUT", path, body);
  }

  public Reply post(String path, Object body) {
    return send("POST", path, body);
  }

  /** {@code body}: null for none, a String as raw text, anything else as JSON. */
  public Reply send(String method, String path, Object body) {
    try {
      byte[] bytes = body == null ? new byte[0]
          : body instanceof String s ? s.getBytes(java.nio.charset.StandardCharsets.UTF_8)
          : body instanceof byte[] b ? b : Json.mapper().writeValueAsBytes(body);
      var req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(bytes));
      if (token != null) req.header("Authorization", "Bearer " + token);
      if (body != null) req.header("Content-Type", "application/json");
      HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
    } catch (IOException e) {
      throw new AssertionError(method + " " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
