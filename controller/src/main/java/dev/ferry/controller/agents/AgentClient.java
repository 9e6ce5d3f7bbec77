package dev.ferry.controller.agents;

import dev.ferry.api.Problem;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.HttpHostAgent;
import dev.ferry.api.http.JsonHttp;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.HostRow;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every controller → agent call goes through here: {@link #of} gives a host's {@link HostAgent}
 * over HTTP with the cluster token, a deadline per call, and one mapping of what can go wrong to
 * {@link ControllerException}: unreachable or too slow → {@code UNAVAILABLE} (503, naming host and
 * URL), a 4xx problem → {@code AGENT_REJECTED} (relayed unchanged), a 5xx → {@code AGENT_FAILED}
 * (502).
 */
public final class AgentClient {

  private static final Logger LOG = LoggerFactory.getLogger(AgentClient.class);

  /** deadline of an ordinary call; stop adds its own grace period to this */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient http;
  private final String token;
  private final boolean tls;

  public AgentClient(String token) {
    this(token, null);
  }

  /**
   * @param tls trusts only the cluster CA and shows the controller's certificate, which agents
   *     require; null: the JDK's defaults (agents on plain HTTP, in tests)
   */
  public AgentClient(String token, javax.net.ssl.SSLContext tls) {
    this.token = token;
    this.tls = tls != null;
    this.http = JsonHttp.client(Duration.ofSeconds(3), tls);
  }

  /** The agent of {@code host}, each call within {@link #DEFAULT_TIMEOUT} unless {@link HostAgent#within} says otherwise. */
  public HostAgent of(HostRow host) {
    if (tls && !host.url().startsWith("https://")) {
      // the token must never cross the network in clear, whatever a heartbeat advertised
      throw new ControllerException(Kind.UNAVAILABLE, "agent of host '" + host.name() + "' advertises " + host.url()
          + ", but this controller talks to agents over https only (start the agent with --tls DIR)");
    }
    return new HttpHostAgent(new JsonHttp(http, host.url(), token, DEFAULT_TIMEOUT, new Failures(host)));
  }

  /** What a failed call to one host's agent becomes. */
  private record Failures(HostRow host) implements JsonHttp.Failures {

    @Override
    public RuntimeException unreachable(JsonHttp.Call call, Exception cause) {
      String why = switch (cause) {
        case HttpTimeoutException e -> "no answer within " + call.deadline().toMillis() + " ms";
        case ConnectException e -> "connection refused";
        case javax.net.ssl.SSLException e -> "no TLS session (" + e.getMessage() + "): the agent's certificate must"
            + " chain to the cluster CA and name the host of its URL";
        case InterruptedException e -> "interrupted";
        default -> String.valueOf(cause.getMessage());
      };
      return new ControllerException(Kind.UNAVAILABLE, "agent of host '" + host.name() + "' at " + host.url()
          + " could not be reached (" + call + "): " + why, cause);
    }

    @Override
    public RuntimeException refused(JsonHttp.Call call, int status, Problem problem, String body) {
      Problem p = problemOf(problem, status, body);
      if (status < 500) return ControllerException.agentRejected(p);
      return new ControllerException(Kind.AGENT_FAILED, "agent of host '" + host.name() + "' failed " + call
          + " with " + status + ": " + p.detail());
    }

    @Override
    public RuntimeException unreadable(JsonHttp.Call call, String why, Exception cause) {
      return new ControllerException(Kind.AGENT_FAILED, "agent of host '" + host.name() + "' answered " + call
          + " with a body that cannot be read: " + why, cause);
    }

    @Override
    public void trace(JsonHttp.Call call, int status) {
      if (status == 0) LOG.debug("→ host {}: {} {}", host.name(), call.method(), call.uri());
      else LOG.debug("← host {}: {} → {}", host.name(), call, status);
    }

    /** The agent's problem with the status it came with, or one made up from the status when the body is none. */
    private static Problem problemOf(Problem p, int status, String body) {
      if (p == null) {
        return Problem.of(status, "agent error", "agent answered " + status + (body.isEmpty() ? "" : ": " + body));
      }
      if (p.status() == status && p.detail() != null) return p;
      return new Problem(p.type() == null ? "about:blank" : p.type(), p.title(), status,
          p.detail() == null ? "agent answered " + status : p.detail(), p.field(), p.value(), p.allowed());
    }
  }
}
