package dev.ferry.cli.client;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.http.JsonHttp;
import dev.ferry.api.tls.TlsContexts;
import dev.ferry.api.tls.TlsException;
import dev.ferry.cli.CliException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The controller's REST API over {@link JsonHttp}: bearer token, a deadline on every call,
 * and every non-2xx answer turned into a {@link CliException} carrying the decoded
 * problem+json, so a command never has to look at a status code.
 */
public final class ControllerClient {

  public static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = Json.answers();

  private final Endpoint endpoint;
  private final JsonHttp http;

  public ControllerClient(Endpoint endpoint) {
    this.endpoint = endpoint;
    this.http = new JsonHttp(JsonHttp.client(TIMEOUT, tls(endpoint)), endpoint.url().toString(), endpoint.token(),
        TIMEOUT, new Failures());
  }

  /** Over https, trust exactly the endpoint's CA when it names one. */
  private static javax.net.ssl.SSLContext tls(Endpoint endpoint) {
    if (endpoint.caFile() == null || !"https".equals(endpoint.url().getScheme())) return null;
    try {
      return TlsContexts.trusting(endpoint.caFile());
    } catch (TlsException e) {
      throw new CliException(CliException.Kind.CONFIG, e.getMessage(), e);
    }
  }

  public URI url() {
    return endpoint.url();
  }

  /** One path segment, e.g. a VM name, percent-encoded so it cannot change the path. */
  public static String seg(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  public <T> T get(String path, Class<T> type) {
    return http.call("GET", path, null, JSON.constructType(type), TIMEOUT);
  }

  public <T> T get(String path, TypeReference<T> type) {
    return http.call("GET", path, null, JSON.constructType(type), TIMEOUT);
  }

  public <T> T post(String path, Object body, Class<T> type) {
    return http.call("POST", path, body, JSON.constructType(type), TIMEOUT);
  }

  /** POST with its own deadline, for calls the controller answers only after an agent did. */
  public <T> T post(String path, Object body, Class<T> type, Duration timeout) {
    return http.call("POST", path, body, JSON.constructType(type), timeout);
  }

  /** POST with its own deadline, for calls that wait on the guest (vm stop). */
  public JsonNode post(String path, Object body, Duration timeout) {
    JavaType tree = JSON.constructType(JsonNode.class);
    return http.call("POST", path, body, tree, timeout);
  }

  public void delete(String path) {
    delete(path, TIMEOUT);
  }

  /** DELETE with its own deadline, for calls that take a pair of hosts down (ft disable). */
  public void delete(String path, Duration timeout) {
    http.call("DELETE", path, null, JSON.constructType(Void.class), timeout);
  }

  /** What a failed call to the controller tells the user. */
  private final class Failures implements JsonHttp.Failures {

    @Override
    public RuntimeException unreachable(JsonHttp.Call call, Exception e) {
      return switch (e) {
        case HttpConnectTimeoutException c -> notRunning(c);
        case ConnectException c -> notRunning(c);
        case HttpTimeoutException t -> new CliException(CliException.Kind.UNREACHABLE, "the controller at "
            + endpoint.url() + " did not answer " + call + " in time", t);
        case InterruptedException i -> new CliException(CliException.Kind.UNREACHABLE, "interrupted during " + call, i);
        case javax.net.ssl.SSLException t -> new CliException(CliException.Kind.UNREACHABLE, "no TLS session with the"
            + " controller at " + endpoint.url() + " (" + describe(t) + "); its certificate must chain to "
            + (endpoint.caFile() == null ? "a public root (pass --ca FILE or set FERRY_CA for a cluster CA)"
                : "the CA in " + endpoint.caFile()) + " and name the URL's host", t);
        default -> new CliException(CliException.Kind.UNREACHABLE, "cannot talk to the controller at "
            + endpoint.url() + " (" + call + "): " + describe(e), e);
      };
    }

    private CliException notRunning(Exception e) {
      return new CliException(CliException.Kind.UNREACHABLE, "cannot reach the controller at " + endpoint.url()
          + " (" + describe(e) + "); is the cluster running? start one with 'ferry cluster up'", e);
    }

    @Override
    public RuntimeException refused(JsonHttp.Call call, int status, Problem problem, String body) {
      if (problem == null) {
        problem = Problem.of(status, "http " + status, call + " answered " + status + (body.isEmpty() ? "" : ": " + body));
      }
      String message = ProblemMessage.of(problem);
      if (status == 401) {
        message = "the controller at " + endpoint.url() + " refused the token (401: " + message
            + "); check --token-file, FERRY_TOKEN or the cluster's token file";
      }
      return new CliException(CliException.Kind.API, message, problem, null);
    }

    @Override
    public RuntimeException unreadable(JsonHttp.Call call, String why, Exception cause) {
      // a controller newer than this CLI may answer fields it does not know: that is read past, not this
      return new CliException(CliException.Kind.API, "unexpected answer to " + call + ": " + why, cause);
    }
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
