package dev.ferry.app.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The few agent calls a benchmark makes, with the cluster token; any non-2xx answer fails the run. */
record AgentHttp(String url, String token, HttpClient http) {

  static AgentHttp of(String url, String token) {
    return new AgentHttp(url, token, HttpClient.newHttpClient());
  }

  JsonNode call(String method, String path, Object body, Duration timeout) {
    try {
      var req = HttpRequest.newBuilder(URI.create(url + path)).timeout(timeout)
          .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(body)))
          .build();
      HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() >= 300) {
        throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
      }
      return r.body().isEmpty() ? null : Json.mapper().readTree(r.body());
    } catch (IOException e) {
      throw new IllegalStateException(method + " " + path + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  JsonNode call(String method, String path, Object body) {
    return call(method, path, body, Duration.ofSeconds(60));
  }
}
