package dev.ferry.controller;

import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.AgentRoute;
import dev.ferry.api.agent.AgentRoutes;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side of a {@link FakeAgent}: every {@link AgentRoute} bound through
 * {@link AgentRoutes}, as the real agent binds them, behind the bearer token; each call recorded
 * as {@code METHOD path} and {@code failOn} answered with a 500 before the fake sees it.
 */
final class FakeAgentServer implements AutoCloseable {

  private final FakeAgent agent;
  private Javalin app;
  /** the port of the first start; a revived server binds it again, as a restarted agent would */
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private ScheduledFuture<?> beating;
  private boolean down;

  FakeAgentServer(FakeAgent agent) {
    this.agent = agent;
    this.app = serve(0);
    this.port = app.port();
  }

  /**
   * The agent process dies: its port is closed, so every call is refused at connect (what the
   * controller sees of a SIGKILLed agent). Its state stays in the fake, as a real agent keeps it on disk.
   */
  synchronized void die() {
    app.stop();
    down = true;
  }

  /** The agent is back on the same port, with the state it had; a running one is left as it is. */
  synchronized void revive() {
    if (!down) return;
    app = serve(port);
    down = false;
  }

  private Javalin serve(int on) {
    return Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.jetty.host = "127.0.0.1";
      cfg.jetty.port = on;
      var r = cfg.routes;
      r.before(ctx -> {
        if (!("Bearer " + agent.controllerCredential).equals(ctx.header("Authorization"))) {
          problem(ctx, Problem.of(401, "unauthorized", "wrong token"));
          ctx.skipRemainingHandlers();
          return;
        }
        String call = ctx.method().name() + " " + ctx.path();
        if (call.equals(agent.failOnce)) {
          agent.failOnce = null;
          // recorded apart, so that a wait for the call (a hold) waits for the next one
          agent.calls.add("failed " + call);
          problem(ctx, Problem.of(500, "internal error", "injected failure of " + call));
          ctx.skipRemainingHandlers();
          return;
        }
        agent.calls.add(call);
        var gate = agent.pauseGate;
        if (gate != null && (call.equals(agent.pauseOn)
            || (agent.pausePrefix != null && call.startsWith(agent.pausePrefix)))) {
          gate.await(5, java.util.concurrent.TimeUnit.SECONDS);
        }
        if (call.equals(agent.failOn)) {
          problem(ctx, Problem.of(500, "internal error", "injected failure of " + call));
          ctx.skipRemainingHandlers();
        }
      });
      r.exception(FakeAgent.Refused.class, (e, ctx) -> problem(ctx, e.problem));
      for (AgentRoute route : AgentRoute.values()) {
        r.addHttpHandler(HandlerType.findOrCreate(route.method()), route.template(), ctx -> {
          AgentRoutes.Answer a = AgentRoutes.serve(agent, route, new Request(ctx));
          ctx.status(a.status());
          if (a.body() != null) ctx.contentType("application/json").result(Json.mapper().writeValueAsBytes(a.body()));
        });
      }
    }).start();
  }

  /** A request as the fake reads it: lenient, it trusts the controller under test. */
  private record Request(Context ctx) implements AgentRoutes.Request {
    @Override
    public String path(String name) {
      return ctx.pathParam(name);
    }

    @Override
    public <T> T body(Class<T> type) {
      try {
        return Json.mapper().readValue(ctx.bodyAsBytes(), type);
      } catch (java.io.IOException e) {
        throw new FakeAgent.Refused(Problem.badInput("body", "", e.getMessage()));
      }
    }

    @Override
    public boolean flag(String name) {
      return "true".equals(ctx.queryParam(name));
    }

    @Override
    public Long number(String name) {
      String v = ctx.queryParam(name);
      return v == null ? null : Long.parseLong(v);
    }

    @Override
    public Integer count(String name) {
      Long v = number(name);
      return v == null ? null : v.intValue();
    }

    @Override
    public String text(String name) {
      return ctx.queryParam(name);
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  int heartbeat(String controllerUrl, byte[] body) throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(controllerUrl + dev.ferry.api.ApiPaths.HEARTBEAT))
        .header("Authorization", "Bearer " + agent.token).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  synchronized void startHeartbeats(Callable<Integer> beat, long periodMs) {
    stopHeartbeats();
    beating = timer.scheduleAtFixedRate(() -> {
      try {
        beat.call();
      } catch (Exception e) {
        // a real agent logs and retries; so does the fake
      }
    }, 0, periodMs, TimeUnit.MILLISECONDS);
  }

  synchronized void stopHeartbeats() {
    if (beating != null) beating.cancel(false);
    beating = null;
  }

  @Override
  public void close() {
    stopHeartbeats();
    timer.shutdownNow();
    synchronized (this) {
      app.stop();
    }
  }

  private static void problem(Context ctx, Problem p) {
    try {
      ctx.status(p.status()).contentType(Problem.MEDIA_TYPE).result(Json.mapper().writeValueAsString(p));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + p, e);
    }
  }
}
