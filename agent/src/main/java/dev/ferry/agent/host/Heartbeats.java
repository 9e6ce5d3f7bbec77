package dev.ferry.agent.host;

import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@link AgentHeartbeat}s to the controller every interval, from the start. A controller
 * that is down is normal (it may start after the agents): the first failure of an outage is
 * logged at WARN, the rest at DEBUG, the recovery at INFO, and nothing ever stops the loop.
 */
public final class Heartbeats implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Heartbeats.class);
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final URI target;
  private final String token;
  private final Duration interval;
  private final Supplier<AgentHeartbeat> beat;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ferry-heartbeat");
    t.setDaemon(true);
    return t;
  });
  /** only touched by the scheduler thread */
  private boolean failing;

  public Heartbeats(String controller, String token, Duration interval, Supplier<AgentHeartbeat> beat) {
    String base = controller.endsWith("/") ? controller.substring(0, controller.length() - 1) : controller;
    this.target = URI.create(base + ApiPaths.HEARTBEAT);
    this.token = token;
    this.interval = interval;
    this.beat = beat;
  }

  public Heartbeats start() {
    // fixed delay, not rate: a slow controller never gets a pile of queued heartbeats
    scheduler.scheduleWithFixedDelay(this::sendOnce, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** One heartbeat; true when the controller took it. Never throws. */
  boolean sendOnce() {
    try {
      HttpRequest request = HttpRequest.newBuilder(target)
          .timeout(TIMEOUT)
          .header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(Json.mapper().writeValueAsBytes(beat.get())))
          .build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        return failed("controller answered " + response.statusCode() + ": " + abbreviate(response.body()));
      }
      if (failing) log.info("heartbeats to {} are accepted again", target);
      failing = false;
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return failed(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }
  }

  private boolean failed(String why) {
    if (!failing) log.warn("heartbeat to {} failed ({}); retrying every {} ms", target, why, interval.toMillis());
    else log.debug("heartbeat to {} failed again ({})", target, why);
    failing = true;
    return false;
  }

  private static String abbreviate(String s) {
    return s == null ? "" : s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    http.close();
  }
}
