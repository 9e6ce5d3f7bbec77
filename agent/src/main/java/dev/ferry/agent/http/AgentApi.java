package dev.ferry.agent.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.pool.Volumes;
import dev.ferry.agent.migration.Migrations;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.Json;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.PostcopyResume;
import dev.ferry.api.Problem;
import dev.ferry.api.agent.VolumeCreateRequest;
import io.javalin.Javalin;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The agent's REST API ({@link ApiPaths}{@code .AGENT_*}). Every request is authenticated before
 * anything else, bodies are bounded, and every failure leaves through {@link ErrorClassifier} as
 * {@code application/problem+json}.
 */
public final class AgentApi implements AutoCloseable {

  static final long DEFAULT_STOP_TIMEOUT_MS = 30_000;
  static final long MAX_STOP_TIMEOUT_MS = 600_000;
  private static final String PROBLEM_WRITTEN = "ferry.problem";

  private final Javalin server;

  private AgentApi(Javalin server) {
    this.server = server;
  }

  /** What the API serves; the agent wires its parts in. */
  public record Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host,
      Migrations migrations) {

    /** Without live migration: its endpoints answer 404. */
    public Services(Pools pools, Volumes volumes, Vms vms, StorageMoves moves, Supplier<AgentHeartbeat> host) {
      this(pools, volumes, vms, moves, host, null);
    }
  }

  public static AgentApi start(String listenHost, int port, String token, Services services) {
    var auth = new TokenAuth(token);
    Javalin server = Javalin.create(cfg -> {
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

  private static void routes(RoutesConfig r, Services s) {
    // before AGENT_VM_ACTION, whose {action} would also match "outgoing"
    if (s.migrations() != null) migrationRoutes(r, s.migrations());
    r.get(ApiPaths.AGENT_HOST, ctx -> json(ctx, 200, s.host().get()));
    r.get(ApiPaths.AGENT_POOLS, ctx -> json(ctx, 200, s.pools().views()));
    r.put(ApiPaths.AGENT_POOL, ctx -> {
      var req = body(ctx, AgentPoolRequest.class);
      var defined = s.pools().define(ctx.pathParam("name"), req.path(), req.shared());
      json(ctx, defined.created() ? 201 : 200, defined.view());
    });
    r.post(ApiPaths.AGENT_VOLUMES, ctx -> json(ctx, 201, s.volumes().create(body(ctx, VolumeCreateRequest.class))));
    r.delete(ApiPaths.AGENT_VOLUME, ctx -> {
      s.volumes().delete(ctx.pathParam("pool"), ctx.pathParam("name"));
      ctx.status(204);
    });
    r.get(ApiPaths.AGENT_VMS, ctx -> json(ctx, 200, s.vms().list()));
    r.get(ApiPaths.AGENT_VM, ctx -> json(ctx, 200, s.vms().status(ctx.pathParam("name"))));
    r.put(ApiPaths.AGENT_VM, ctx -> {
      var defined = s.vms().define(ctx.pathParam("name"), body(ctx, AgentVmDefinition.class));
      json(ctx, defined.created() ? 201 : 200, defined.status());
    });
    r.delete(ApiPaths.AGENT_VM, ctx -> {
      s.vms().delete(ctx.pathParam("name"), booleanParam(ctx, "delete_disks"));
      ctx.status(204);
    });
    r.post(ApiPaths.AGENT_VM_ACTION, ctx -> {
      String name = ctx.pathParam("name");
      json(ctx, 200, switch (ctx.pathParam("action")) {
        case "start" -> s.vms().start(name);
        case "stop" -> s.vms().stop(name, Duration.ofMillis(stopTimeout(ctx)));
        case "kill" -> s.vms().kill(name);
        default -> throw new AgentException(Kind.NOT_FOUND,
            "no vm action '" + ctx.pathParam("action") + "': use start, stop or kill");
      });
    });
    r.put(ApiPaths.AGENT_MIRROR, ctx -> {
      var started = s.moves().mirror(ctx.pathParam("name"), ctx.pathParam("disk"), body(ctx, MirrorRequest.class));
      json(ctx, started.created() ? 201 : 200, started.status());
    });
    r.get(ApiPaths.AGENT_MIRROR, ctx -> json(ctx, 200, s.moves().status(ctx.pathParam("name"), ctx.pathParam("disk"))));
    r.post(ApiPaths.AGENT_MIRROR_STEP, ctx -> {
      String name = ctx.pathParam("name");
      String disk = ctx.pathParam("disk");
      json(ctx, 200, switch (ctx.pathParam("step")) {
        case "pivot" -> s.moves().pivot(name, disk);
        case "verify" -> s.moves().verify(name, disk);
        case "release" -> s.moves().release(name, disk, booleanParam(ctx, "keep_source"));
        case "cancel" -> s.moves().cancel(name, disk);
        default -> throw new AgentException(Kind.NOT_FOUND,
            "no mirror step '" + ctx.pathParam("step") + "': use pivot, verify, release or cancel");
      });
    });
    r.get(ApiPaths.AGENT_VM_CONSOLE, ctx -> json(ctx, 200, s.vms().console(ctx.pathParam("name"),
        longParam(ctx, "offset"), intParam(ctx, "tail"))));
  }

  /** Live migration ({@link Migrations}): the target's incoming, the source's outgoing. */
  private static void migrationRoutes(RoutesConfig r, Migrations m) {
    r.put(ApiPaths.AGENT_VM_INCOMING, ctx -> json(ctx, 200, m.incoming(ctx.pathParam("name"), body(ctx, IncomingRequest.class))));
    r.get(ApiPaths.AGENT_VM_INCOMING, ctx -> json(ctx, 200, m.incomingStatus(ctx.pathParam("name"))));
    r.delete(ApiPaths.AGENT_VM_INCOMING, ctx -> {
      m.rollBackIncoming(ctx.pathParam("name"));
      ctx.status(204);
    });
    r.post(ApiPaths.AGENT_VM_INCOMING_STEP, ctx -> json(ctx, 200, switch (ctx.pathParam("step")) {
      case "finish" -> m.finishIncoming(ctx.pathParam("name"));
      case "recover" -> m.recoverIncoming(ctx.pathParam("name"));
      default -> throw new AgentException(Kind.NOT_FOUND, "no incoming step '" + ctx.pathParam("step")
          + "': use finish or recover");
    }));
    r.post(ApiPaths.AGENT_VM_OUTGOING, ctx -> json(ctx, 200, m.outgoing(ctx.pathParam("name"), body(ctx, OutgoingRequest.class))));
    r.get(ApiPaths.AGENT_VM_OUTGOING, ctx -> json(ctx, 200, m.outgoingStats(ctx.pathParam("name"))));
    r.post(ApiPaths.AGENT_VM_OUTGOING_STEP, ctx -> {
      String name = ctx.pathParam("name");
      json(ctx, 200, switch (ctx.pathParam("step")) {
        case "cancel" -> m.cancelOutgoing(name);
        case "postcopy" -> m.postcopy(name);
        case "pause" -> m.pauseOutgoing(name);
        case "parameters" -> m.tuneOutgoing(name, body(ctx, MigrationTuning.class).parameters());
        case "resume" -> m.resumeOutgoing(name, body(ctx, PostcopyResume.class).migrationUri());
        case "complete" -> m.completeOutgoing(name, booleanParam(ctx, "delete_source_images"));
        default -> throw new AgentException(Kind.NOT_FOUND,
            "no outgoing step '" + ctx.pathParam("step") + "': use cancel, postcopy, parameters, pause, resume or complete");
      });
    });
    r.get(ApiPaths.AGENT_VM_MEMORY_DIGEST, ctx -> json(ctx, 200, m.memoryDigest(ctx.pathParam("name"))));
  }

  public int port() {
    return server.port();
  }

  /** Stops serving; requests under way are cut off. */
  @Override
  public void close() {
    server.stop();
  }

  private static <T> T body(Context ctx, Class<T> type) {
    return Bodies.read(ctx.bodyInputStream(), type);
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

  private static long stopTimeout(Context ctx) {
    Long ms = longParam(ctx, "timeout_ms");
    if (ms == null) return DEFAULT_STOP_TIMEOUT_MS;
    if (ms < 0 || ms > MAX_STOP_TIMEOUT_MS) {
      throw AgentException.badInput("timeout_ms", ms.toString(), "0 to " + MAX_STOP_TIMEOUT_MS + " milliseconds");
    }
    return ms;
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
