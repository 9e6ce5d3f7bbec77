package dev.ferry.agent.host;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.http.JsonHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
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
  private final Duration interval;
  private final Supplier<AgentHeartbeat> beat;
  private final HttpClient client;
  private final JsonHttp http;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "ferry-heartbeat");
    t.setDaemon(true);
    return t;
  });
  /** only touched by the scheduler thread */
  private boolean failing;

  public Heartbeats(String controller, String token, Duration interval, Supplier<AgentHeartbeat> beat) {
    this(controller, token, null, interval, beat);
  }

  /** @param tls trusts the cluster CA and shows the host's certificate; null: the JDK's defaults */
  public Heartbeats(String controller, String token, SSLContext tls, Duration interval, Supplier<AgentHeartbeat> beat) {
    this.client = JsonHttp.client(TIMEOUT, tls);
    String base = controller.endsWith("/") ? controller.substring(0, controller.length() - 1) : controller;
    this.target = URI.create(base + ApiPaths.HEARTBEAT);
    this.http = new JsonHttp(client, base, token, TIMEOUT, new Failed());
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
      http.call("POST", ApiPaths.HEARTBEAT, beat.get(), Void.class);
      if (failing) log.info("heartbeats to {} are accepted again", target);
      failing = false;
      return true;
    } catch (NotTaken e) {
      return Thread.currentThread().isInterrupted() ? false : failed(e.getMessage());
    } catch (RuntimeException e) {
      return failed(describe(e));
    }
  }

  /** A heartbeat the controller did not take; the message says why, for the log. */
  private static final class NotTaken extends RuntimeException {
    NotTaken(String why, Throwable cause) {
      super(why, cause);
    }
  }

  private static final class Failed implements JsonHttp.Failures {
    @Override
    public RuntimeException unreachable(JsonHttp.Call call, Exception cause) {
      return new NotTaken(describe(cause), cause);
    }

    @Override
    public RuntimeException refused(JsonHttp.Call call, int status, Problem problem, String body) {
      return new NotTaken("controller answered " + status + ": " + abbreviate(problem == null ? body : problem.detail()),
          null);
    }

    @Override
    public RuntimeException unreadable(JsonHttp.Call call, String why, Exception cause) {
      return new NotTaken(why, cause);
    }
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
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
    client.close();
  }
}
