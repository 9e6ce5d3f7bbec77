package dev.ferry.controller.agents;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.HostRow;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every controller → agent call goes through here: bearer token, JSON in the API dialect, a
 * deadline per call, and one mapping of what can go wrong to {@link ControllerException}:
 * unreachable or too slow → {@code UNAVAILABLE} (503, naming host and URL), a 4xx problem →
 * {@code AGENT_REJECTED} (relayed unchanged), a 5xx → {@code AGENT_FAILED} (502).
 */
public final class AgentClient {

  private static final Logger LOG = LoggerFactory.getLogger(AgentClient.class);

  /** deadline of an ordinary call; stop adds its own grace period to this */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http;
  private final String token;

  public AgentClient(String token) {
    this.token = token;
    this.http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(3))
        .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor())
        .build();
  }

  public <T> T get(HostRow host, String path, Class<T> type) {
    return call(host, "GET", path, null, type, DEFAULT_TIMEOUT);
  }

  public <T> T post(HostRow host, String path, Object body, Class<T> type) {
    return call(host, "POST", path, body, type, DEFAULT_TIMEOUT);
  }

  public <T> T put(HostRow host, String path, Object body, Class<T> type) {
    return call(host, "PUT", path, body, type, DEFAULT_TIMEOUT);
  }

  public void delete(HostRow host, String path) {
    call(host, "DELETE", path, null, Void.class, DEFAULT_TIMEOUT);
  }

  /**
   * One call. {@code type} {@code Void.class}, or an empty answer, yields null. {@code path} is
   * relative to the host's URL and may carry a query.
   */
  public <T> T call(HostRow host, String method, String path, Object body, Class<T> type, Duration timeout) {
    URI uri = URI.create(stripSlash(host.url()) + path);
    HttpRequest.BodyPublisher publisher;
    try {
      publisher = body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new ControllerException(Kind.INTERNAL, "cannot encode " + method + " " + path + " for host '"
          + host.name() + "'", e);
    }
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .method(method, publisher)
        .build();
    HttpResponse<byte[]> response;
    try {
      LOG.debug("→ host {}: {} {}", host.name(), method, uri);
      response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (HttpTimeoutException e) {
      throw unavailable(host, method, path, "no answer within " + timeout.toMillis() + " ms", e);
    } catch (ConnectException e) {
      throw unavailable(host, method, path, "connection refused", e);
    } catch (IOException e) {
      throw unavailable(host, method, path, String.valueOf(e.getMessage()), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unavailable(host, method, path, "interrupted", e);
    }
    int status = response.statusCode();
    LOG.debug("← host {}: {} {} → {}", host.name(), method, path, status);
    if (status >= 400) {
      Problem problem = problemOf(response.body(), status);
      if (status < 500) {
        throw ControllerException.agentRejected(problem);
      }
      throw new ControllerException(Kind.AGENT_FAILED, "agent of host '" + host.name() + "' failed "
          + method + " " + path + " with " + status + ": " + problem.detail());
    }
    if (type == Void.class || response.body().length == 0) {
      return null;
    }
    try {
      return Json.answers().readerFor(type).readValue(response.body());
    } catch (IOException e) {
      throw new ControllerException(Kind.AGENT_FAILED, "agent of host '" + host.name() + "' answered "
          + method + " " + path + " with a body that is not a " + type.getSimpleName() + ": " + String.valueOf(e.getMessage()), e);
    }
  }

  private static ControllerException unavailable(HostRow host, String method, String path, String why, Exception e) {
    return new ControllerException(Kind.UNAVAILABLE, "agent of host '" + host.name() + "' at " + host.url()
        + " could not be reached (" + method + " " + path + "): " + why, e);
  }

  /** The agent's problem body, or one made up from the status when the body is not a problem. */
  private static Problem problemOf(byte[] body, int status) {
    try {
      Problem p = Json.answers().readerFor(Problem.class).readValue(body);
      if (p.status() == status && p.detail() != null) return p;
      return new Problem(p.type() == null ? "about:blank" : p.type(), p.title(), status,
          p.detail() == null ? "agent answered " + status : p.detail(), p.field(), p.value(), p.allowed());
    } catch (IOException e) {
      String text = new String(body, java.nio.charset.StandardCharsets.UTF_8).strip();
      if (text.length() > 200) text = text.substring(0, 200) + "…";
      return Problem.of(status, "agent error", "agent answered " + status + (text.isEmpty() ? "" : ": " + text));
    }
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }
}
