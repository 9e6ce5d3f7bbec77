package dev.ferry.app.bench;

import dev.ferry.api.Problem;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.HttpHostAgent;
import dev.ferry.api.http.JsonHttp;
import java.time.Duration;

/** The agent of a benchmark's in-process host, with the cluster token; any failed call fails the run. */
final class AgentHttp {

  private AgentHttp() {}

  static HostAgent of(String url, String token) {
    return new HttpHostAgent(new JsonHttp(JsonHttp.client(Duration.ofSeconds(10)), url, token, Duration.ofSeconds(60),
        FAILS));
  }

  private static final JsonHttp.Failures FAILS = new JsonHttp.Failures() {
    @Override
    public RuntimeException unreachable(JsonHttp.Call call, Exception cause) {
      return new IllegalStateException(call + " failed: " + cause.getMessage(), cause);
    }

    @Override
    public RuntimeException refused(JsonHttp.Call call, int status, Problem problem, String body) {
      return new IllegalStateException(call + " answered " + status + ": " + (problem == null ? body : problem.detail()));
    }

    @Override
    public RuntimeException unreadable(JsonHttp.Call call, String why, Exception cause) {
      return new IllegalStateException(call + ": " + why, cause);
    }
  };
}
