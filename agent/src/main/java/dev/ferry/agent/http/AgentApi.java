package dev.ferry.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.migration.Migrations;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.pool.Volumes;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.agent.cold.ColdCopies;
import dev.ferry.agent.cold.ColdExports;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentRoute;
import dev.ferry.api.agent.AgentRoutes;
import dev.ferry.api.agent.HostAgent;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The agent's REST API: every {@link AgentRoute} bound to this host's services through
 * {@link AgentRoutes}, the same binding the controller's client is written against. Every request is
 * authenticated before anything else, bodies are bounded, and every failure leaves through
 * {@link ErrorClassifier} as {@code application/problem+json}.
 */
public final class AgentApi implements AutoCloseable {

  private static final String PROBLEM_WRITTEN = "ferry.problem";

  private final Javalin server;

  private AgentApi(Javalin server) {
    this.server = server;
  }

  /** What the API serves; the agent wires its parts in. */
  public record Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host,
      Migrations migrations, Cold cold, Warm warm, Ft ft) {

    /** Without live, cold or warm migration or fault tolerance: their endpoints answer 404. */
    public Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host) {
      this(pools, volumes, vms, moves, host, null, null, null, null);
    }

    /** Without warm migration or fault tolerance: their endpoints answer 404. */
    public Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host,
        Migrations migrations, Cold cold) {
      this(pools, volumes, vms, moves, host, migrations, cold, null, null);
    }

    /** Without fault tolerance: its endpoints answer 404. */
    public Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host,
        Migrations migrations, Cold cold, Warm warm) {
      this(pools, volumes, vms, moves, host, migrations, cold, warm, null);
    }
  }

  /** Fault tolerance's two sides. */
  public record Ft(dev.ferry.agent.ftpair.FtPrimaries primaries, dev.ferry.agent.ftpair.FtSecondaries secondaries) {
  }

  /** Cold migration's two sides. */
  public record Cold(ColdExports exports, ColdCopies copies) {
  }

  /** Warm migration's two sides. */
  public record Warm(dev.ferry.agent.warm.WarmSources sources, dev.ferry.agent.warm.WarmCopies copies) {
  }

  /** {@code controllerSha256}: the hash of the only bearer secret accepted, the controller's credential. */
  public static AgentApi start(String listenHost, int port, String controllerSha256, Services services) {
    return start(listenHost, port, controllerSha256, null, services);
  }

  /**
   * @param controllerSha256 the hash of the only bearer secret accepted, the controller's credential
   * @param tls null: plain HTTP (tests of the API alone); else HTTPS only, with a client
   *     certificate from the cluster CA required ({@link HttpsConnector})
   */
  public static AgentApi start(String listenHost, int port, String controllerSha256, SSLContext tls, Services services) {
    var auth = new TokenAuth(controllerSha256);
    Javalin server = Javalin.create(cfg -> {
      if (tls != null) cfg.jetty.addConnector((jetty, http) -> HttpsConnector.of(jetty, http, tls, listenHost, port));
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      // Bodies enforces the limit itself, with a problem body; Jetty's limit only backs it up
      cfg.http.maxRequestSize = ApiPaths.DRAIN_BYTES;
      RoutesConfig r = cfg.routes;
      r.before(ctx -> {
        auth.check(ctx.header("Authorization"));
        Bodies.refuseOversized(ctx.req().getContentLengthLong(), () -> ctx.req().getInputStream());
      });
      r.exception(Exception.class, (e, ctx) -> problem(ctx, ErrorClassifier.classify(e, ctx.method() + " " + ctx.path())));
      r.error(404, ctx -> {
        if (ctx.attribute(PROBLEM_WRITTEN) == null) {
          problem(ctx, Problem.of(404, "not found", "no endpoint " + ctx.method() + " " + ctx.path() + " on this agent"));
        }
      });
      routes(r, services);
    });
    server.start(listenHost, port);
    return new AgentApi(server);
  }

  /** Every {@link AgentRoute} through {@link AgentRoutes}; live migration's only when the agent has it (404 otherwise). */
  private static void routes(RoutesConfig r, Services s) {
    HostAgent agent = new LocalAgent(s);
    for (AgentRoute route : AgentRoute.values()) {
      if (s.migrations() == null && LIVE_MIGRATION.contains(route)) continue;
      if (s.cold() == null && route.name().startsWith("COLD_")) continue;
      if (s.warm() == null && route.name().startsWith("WARM_")) continue;
      if (s.ft() == null && route.name().startsWith("FT_")) continue;
      r.addHttpHandler(HandlerType.findOrCreate(route.method()), route.template(), ctx -> {
        AgentRoutes.Answer a = AgentRoutes.serve(agent, route, new Request(ctx));
        if (a.body() == null) ctx.status(a.status());
        else json(ctx, a.status(), a.body());
      });
    }
  }

  /** The routes served by {@link Migrations}. */
  private static final Set<AgentRoute> LIVE_MIGRATION = EnumSet.of(AgentRoute.INCOMING_PREPARE,
      AgentRoute.INCOMING_STATUS, AgentRoute.INCOMING_ROLLBACK, AgentRoute.INCOMING_FINISH, AgentRoute.INCOMING_RECOVER,
      AgentRoute.OUTGOING_START, AgentRoute.OUTGOING_STATS, AgentRoute.OUTGOING_CANCEL, AgentRoute.OUTGOING_POSTCOPY,
      AgentRoute.OUTGOING_PAUSE, AgentRoute.OUTGOING_PARAMETERS, AgentRoute.OUTGOING_RESUME, AgentRoute.OUTGOING_COMPLETE,
      AgentRoute.OUTGOING_RECLAIM, AgentRoute.OUTGOING_UNLOCK, AgentRoute.MEMORY_DIGEST,
      AgentRoute.DIRTY_RATE_MEASURE, AgentRoute.DIRTY_RATE);

  /** A request as the agent reads it: bounded bodies, and a bad parameter refused naming it. */
  private record Request(Context ctx) implements AgentRoutes.Request {
    @Override
    public String path(String name) {
      return ctx.pathParam(name);
    }

    @Override
    public <T> T body(Class<T> type) {
      return Bodies.read(ctx.bodyInputStream(), type);
    }

    @Override
    public boolean flag(String name) {
      return booleanParam(ctx, name);
    }

    @Override
    public Long number(String name) {
      return longParam(ctx, name);
    }

    @Override
    public Integer count(String name) {
      return intParam(ctx, name);
    }

    @Override
    public String text(String name) {
      return ctx.queryParam(name);
    }
  }

  public int port() {
    return server.port();
  }

  /** Stops serving; requests under way are cut off. */
  @Override
  public void close() {
    server.stop();
  }

  static void json(Context ctx, int status, Object value) throws JsonProcessingException {
    ctx.status(status).contentType("application/json").result(Json.mapper().writeValueAsBytes(value));
  }

  static void problem(Context ctx, Problem p) {
    ctx.attribute(PROBLEM_WRITTEN, Boolean.TRUE);
    try {
      ctx.status(p.status()).contentType(Problem.MEDIA_TYPE).result(Json.mapper().writeValueAsBytes(p));
    } catch (JsonProcessingException e) {
      ctx.status(500).contentType(Problem.MEDIA_TYPE).result("{\"title\":\"internal error\",\"status\":500}");
    }
  }

  private static Long longParam(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null) return null;
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw AgentException.badInput(name, v, "a whole number");
    }
  }

  private static Integer intParam(Context ctx, String name) {
    Long v = longParam(ctx, name);
    if (v == null) return null;
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw AgentException.badInput(name, v.toString(), "a smaller number");
    return v.intValue();
  }

  private static boolean booleanParam(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null) return false;
    return switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no", "" -> false;
      default -> throw AgentException.badInput(name, v, "true or false");
    };
  }
}
