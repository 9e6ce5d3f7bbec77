package dev.ferry.api.http;

import com.fasterxml.jackson.databind.JavaType;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;

/**
 * One Ferry process calling another's REST API over {@code java.net.http}: a bearer token, JSON in
 * the API dialect ({@link Json}), a deadline on every call, answers read past fields this release
 * does not know, and an error answer decoded as a {@link Problem}. What a failure becomes is the
 * caller's {@link Failures}: the controller relays an agent's refusal, the CLI prints it.
 */
public final class JsonHttp {

  /** One call, for messages. */
  public record Call(String method, String path, URI uri, Duration deadline) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  /** What a failed call becomes, in the caller's own exceptions. */
  public interface Failures {
    /**
     * No answer: {@code cause} is the {@link java.net.ConnectException},
     * {@link java.net.http.HttpTimeoutException} or other {@link IOException} of the transport,
     * or the {@link InterruptedException} (the thread's flag is set again).
     */
    RuntimeException unreachable(Call call, Exception cause);

    /**
     * An answer of 300 or more. {@code problem} is the body as a problem document, or null when it
     * is none ({@code body} then has its text, cut to 200 characters).
     */
    RuntimeException refused(Call call, int status, Problem problem, String body);

    /** A 2xx whose body is not what was asked for, or a request body that cannot be encoded. */
    RuntimeException unreadable(Call call, String why, Exception cause);

    /** Wire traffic, for a DEBUG log; {@code status} is 0 before the answer. */
    default void trace(Call call, int status) {}
  }

  private final HttpClient client;
  private final String base;
  private final String token;
  private final Duration deadline;
  private final Failures failures;

  /**
   * @param client   shared by every {@code JsonHttp} of the process ({@link #client})
   * @param base     the other process's URL, e.g. {@code http://10.0.0.2:7001}
   * @param deadline of each call that names none
   */
  public JsonHttp(HttpClient client, String base, String token, Duration deadline, Failures failures) {
    this.client = client;
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
    this.deadline = deadline;
    this.failures = failures;
  }

  /** An HTTP client for {@code JsonHttp}s: connections time out after {@code connectTimeout}, each call has a virtual thread. */
  public static HttpClient client(Duration connectTimeout) {
    return client(connectTimeout, null);
  }

  /**
   * The same over TLS with {@code tls} (trusting the cluster CA, see
   * {@link dev.ferry.api.tls.TlsContexts}); null: the JDK's default context. The server's
   * certificate must name the host of the URL (the JDK checks it).
   */
  public static HttpClient client(Duration connectTimeout, javax.net.ssl.SSLContext tls) {
    HttpClient.Builder b = HttpClient.newBuilder()
        .connectTimeout(connectTimeout)
        .executor(Executors.newVirtualThreadPerTaskExecutor());
    if (tls != null) b.sslContext(tls);
    return b.build();
  }

  /** The same API with another default deadline. */
  public JsonHttp within(Duration deadline) {
    return new JsonHttp(client, base, token, deadline, failures);
  }

  public String base() {
    return base;
  }

  public Duration deadline() {
    return deadline;
  }

  /** One call with the default deadline; see {@link #call(String, String, Object, JavaType, Duration)}. */
  public <T> T call(String method, String path, Object body, Class<T> type) {
    return call(method, path, body, Json.answers().constructType(type), deadline);
  }

  /**
   * One call. {@code path} is relative to the base URL and may carry a query; {@code body} null
   * sends none. An empty answer (204), or {@code type} {@code Void}, yields null.
   */
  public <T> T call(String method, String path, Object body, JavaType type, Duration deadline) {
    return this.<T>exchange(method, path, body, type, deadline).value();
  }

  /** A successful answer: its status (200, 201, 204…) and its body as the type asked for. */
  public record Answered<T>(int status, T value) {}

  /** {@link #call(String, String, Object, JavaType, Duration)} that also says which 2xx came back. */
  public <T> Answered<T> exchange(String method, String path, Object body, JavaType type, Duration deadline) {
    Call call = new Call(method, path, URI.create(base + path), deadline);
    HttpRequest.Builder request = HttpRequest.newBuilder(call.uri())
        .timeout(deadline)
        .header("Authorization", "Bearer " + token)
        .header("Accept", "application/json");
    if (body == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      try {
        request.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(body)));
      } catch (IOException e) {
        throw failures.unreadable(call, "cannot encode the request body: " + e.getMessage(), e);
      }
    }
    HttpResponse<byte[]> response;
    try {
      failures.trace(call, 0);
      response = client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw failures.unreachable(call, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw failures.unreachable(call, e);
    }
    int status = response.statusCode();
    failures.trace(call, status);
    byte[] answer = response.body() == null ? new byte[0] : response.body();
    if (status >= 300) throw failures.refused(call, status, problem(answer), text(answer));
    if (type.hasRawClass(Void.class) || answer.length == 0) return new Answered<>(status, null);
    try {
      // another Ferry process may be newer and answer fields this one does not know
      return new Answered<>(status, Json.answers().readerFor(type).readValue(answer));
    } catch (IOException e) {
      throw failures.unreadable(call, "the answer is not a " + type.getRawClass().getSimpleName() + ": "
          + e.getMessage(), e);
    }
  }

  /** The body as a problem document, or null when it is none. */
  static Problem problem(byte[] body) {
    if (body.length == 0) return null;
    try {
      Problem p = Json.answers().readerFor(Problem.class)
          .without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .readValue(body);
      return p == null || p.detail() == null && p.title() == null ? null : p;
    } catch (IOException e) {
      return null;
    }
  }

  private static String text(byte[] body) {
    String s = new String(body, StandardCharsets.UTF_8).strip();
    return s.length() > 200 ? s.substring(0, 200) + "…" : s;
  }
}
