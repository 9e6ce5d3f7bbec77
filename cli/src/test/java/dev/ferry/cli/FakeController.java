package dev.ferry.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A scripted controller on 127.0.0.1:0: {@code reply("GET /api/hosts", 200, body)} queues an
 * answer for a method and path (query included when given, else any query); the last answer of a
 * route repeats. Every request is recorded. Unscripted routes answer 404 problem+json.
 */
public final class FakeController implements AutoCloseable {

  public record Request(String method, String path, String query, String authorization, String body) {
    public String target() {
      return path + (query == null ? "" : "?" + query);
    }
  }

  private record Reply(int status, String contentType, String body) {}

  public static final String TOKEN = "test-token";

  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final Map<String, Deque<Reply>> replies = new ConcurrentHashMap<>();

  public FakeController() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", this::handle);
    server.start();
  }

  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  public FakeController reply(String route, int status, Object body) {
    String text;
    try {
      text = body instanceof String s ? s : Json.mapper().writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
    String type = body instanceof Problem ? Problem.MEDIA_TYPE : "application/json";
    replies.computeIfAbsent(route, k -> new ArrayDeque<>()).add(new Reply(status, type, text));
    return this;
  }

  private void handle(HttpExchange ex) throws IOException {
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getRawPath();
    String query = ex.getRequestURI().getRawQuery();
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    requests.add(new Request(method, path, query, auth, body));
    Reply reply;
    if (!("Bearer " + TOKEN).equals(auth)) {
      reply = problem(Problem.of(401, "unauthorized", "missing or wrong bearer token"));
    } else {
      reply = next(method + " " + path + (query == null ? "" : "?" + query));
      if (reply == null) reply = next(method + " " + path);
      if (reply == null) reply = problem(Problem.of(404, "not found", "no route " + method + " " + path));
    }
    byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", reply.contentType());
    ex.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) ex.getResponseBody().write(bytes);
    ex.close();
  }

  private Reply next(String route) {
    Deque<Reply> queue = replies.get(route);
    if (queue == null || queue.isEmpty()) return null;
    synchronized (queue) {
      return queue.size() > 1 ? queue.poll() : queue.peek();
    }
  }

  private static Reply problem(Problem p) {
    try {
      return new Reply(p.status(), Problem.MEDIA_TYPE, Json.mapper().writeValueAsString(p));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
