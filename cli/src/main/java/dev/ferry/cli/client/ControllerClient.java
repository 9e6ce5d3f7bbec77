package dev.ferry.cli.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.cli.CliException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The controller's REST API over {@code java.net.http}: bearer token, a deadline on every call,
 * and every non-2xx answer turned into a {@link CliException} carrying the decoded
 * problem+json, so a command never has to look at a status code.
 */
public final class ControllerClient {

  public static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = Json.mapper();

  private final Endpoint endpoint;
  private final HttpClient http;

  public ControllerClient(Endpoint endpoint) {
    this.endpoint = endpoint;
    this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  }

  public URI url() {
    return endpoint.url();
  }

  /** One path segment, e.g. a VM name, percent-encoded so it cannot change the path. */
  public static String seg(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  public <T> T get(String path, Class<T> type) {
    return decode("GET", path, send(request(path, TIMEOUT).GET(), "GET", path), JSON.constructType(type));
  }

  public <T> T get(String path, TypeReference<T> type) {
    return decode("GET", path, send(request(path, TIMEOUT).GET(), "GET", path), JSON.constructType(type));
  }

  public <T> T post(String path, Object body, Class<T> type) {
    return post(path, body, JSON.constructType(type), TIMEOUT);
  }

  /** POST with its own deadline, for calls that wait on the guest (vm stop). */
  public JsonNode post(String path, Object body, Duration timeout) {
    return post(path, body, JSON.constructType(JsonNode.class), timeout);
  }

  private <T> T post(String path, Object body, JavaType type, Duration timeout) {
    HttpRequest.BodyPublisher publisher;
    try {
      publisher = body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body));
    } catch (IOException e) {
      throw CliException.local("cannot encode the request for POST " + path + ": " + e.getMessage(), e);
    }
    HttpRequest.Builder req = request(path, timeout).header("Content-Type", "application/json").POST(publisher);
    return decode("POST", path, send(req, "POST", path), type);
  }

  public void delete(String path) {
    send(request(path, TIMEOUT).DELETE(), "DELETE", path);
  }

  private HttpRequest.Builder request(String path, Duration timeout) {
    return HttpRequest.newBuilder(URI.create(endpoint.url() + path))
        .timeout(timeout)
        .header("Authorization", "Bearer " + endpoint.token())
        .header("Accept", "application/json");
  }

  private HttpResponse<String> send(HttpRequest.Builder req, String method, String path) {
    HttpResponse<String> response;
    try {
      response = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (HttpConnectTimeoutException | ConnectException e) {
      throw new CliException(CliException.Kind.UNREACHABLE, "cannot reach the controller at " + endpoint.url()
          + " (" + describe(e) + "); is the cluster running? start one with 'ferry cluster up'", e);
    } catch (HttpTimeoutException e) {
      throw new CliException(CliException.Kind.UNREACHABLE, "the controller at " + endpoint.url()
          + " did not answer " + method + " " + path + " in time", e);
    } catch (IOException e) {
      throw new CliException(CliException.Kind.UNREACHABLE, "cannot talk to the controller at "
          + endpoint.url() + " (" + method + " " + path + "): " + describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.Kind.UNREACHABLE, "interrupted during " + method + " " + path, e);
    }
    if (response.statusCode() / 100 != 2) throw failure(method, path, response);
    return response;
  }

  private static <T> T decode(String method, String path, HttpResponse<String> response, JavaType type) {
    // a 202/204 without a body is a fine answer when only a tree was asked for
    if (type.hasRawClass(JsonNode.class) && (response.body() == null || response.body().isBlank())) return null;
    try {
      // a controller newer than this CLI may answer fields it does not know: an upgrade breaks no CLI
      return Json.answers().readValue(response.body(), type);
    } catch (JsonProcessingException e) {
      throw new CliException(CliException.Kind.API, "unexpected answer to " + method + " " + path + ": "
          + e.getOriginalMessage(), e);
    }
  }

  private CliException failure(String method, String path, HttpResponse<String> response) {
    int status = response.statusCode();
    Problem problem = parseProblem(response.body());
    if (problem == null) {
      String body = response.body() == null ? "" : response.body().strip();
      if (body.length() > 200) body = body.substring(0, 200) + "...";
      problem = Problem.of(status, "http " + status, method + " " + path + " answered " + status
          + (body.isEmpty() ? "" : ": " + body));
    }
    String message = ProblemMessage.of(problem);
    if (status == 401) {
      message = "the controller at " + endpoint.url() + " refused the token (401: " + message
          + "); check --token, FERRY_TOKEN or the cluster's token file";
    }
    return new CliException(CliException.Kind.API, message, problem, null);
  }

  private static Problem parseProblem(String body) {
    if (body == null || body.isBlank()) return null;
    try {
      // lenient: an RFC 9457 extension member must not hide the problem itself
      Problem p = JSON.readerFor(Problem.class)
          .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .without(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .readValue(body);
      return p.detail() == null && p.title() == null ? null : p;
    } catch (IOException e) {
      return null;
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
