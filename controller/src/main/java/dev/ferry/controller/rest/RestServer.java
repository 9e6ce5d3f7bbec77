package dev.ferry.controller.rest;

import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.ApiPaths;
import dev.ferry.api.Json;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.NetworkCreateRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmUnlockRequest;
import dev.ferry.api.Problem;
import dev.ferry.api.auth.TokenCreateRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.auth.Credentials;
import dev.ferry.controller.auth.Principal;
import dev.ferry.controller.store.AuditStore;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.migration.MigrationService;
import dev.ferry.controller.networks.NetworkService;
import dev.ferry.controller.pools.PoolService;
import dev.ferry.controller.vms.VmService;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.json.JavalinJackson;
import java.time.InstantSource;
import java.util.List;

/**
 * The controller's REST API on Javalin. A before-handler finds who holds the bearer token (401
 * when nobody) and checks the declared body size on every request, matched or not; once a route
 * matched, {@link Access} decides whether that holder may call it (403 naming the role needed);
 * after the answer, {@link AuditTrail} records every mutating call. Every failure goes through
 * {@link ErrorClassifier}. Handlers only translate HTTP to service calls.
 */
public final class RestServer implements AutoCloseable {

  private final Javalin app;
  private final EventStream events;

  private RestServer(Javalin app, EventStream events) {
    this.app = app;
    this.events = events;
  }

  /** The services behind the API. */
  public record Services(HostRegistry hosts, PoolService pools, VmService vms, MigrationService migrations,
      EventBus events, int sseMaxClients, Credentials credentials, AuditStore audit, InstantSource clock,
      NetworkService networks, dev.ferry.controller.ft.FtService ft) {

    /** Without fault tolerance: its routes answer 404. */
    public Services(HostRegistry hosts, PoolService pools, VmService vms, MigrationService migrations,
        EventBus events, int sseMaxClients, Credentials credentials, AuditStore audit, InstantSource clock,
        NetworkService networks) {
      this(hosts, pools, vms, migrations, events, sseMaxClients, credentials, audit, clock, networks, null);
    }
  }

  /** Starts listening on {@code host:port} (0 = a free port). */
  public static RestServer start(String host, int port, Services s) {
    return start(host, port, null, s);
  }

  /** The same over HTTPS only when {@code tls} is not null ({@link HttpsConnector}). */
  public static RestServer start(String host, int port, javax.net.ssl.SSLContext tls, Services s) {
    EventStream events = new EventStream(s.events(), s.sseMaxClients());
    AuditTrail audit = new AuditTrail(s.audit(), s.clock());
    Javalin app = Javalin.create(cfg -> {
      cfg.startup.showJavalinBanner = false;
      cfg.startup.showOldJavalinVersionWarning = false;
      cfg.concurrency.useVirtualThreads = true;
      cfg.jsonMapper(new JavalinJackson(Json.mapper(), true));
      cfg.jetty.host = host;
      cfg.jetty.port = port;
      if (tls != null) cfg.jetty.addConnector((jetty, http) -> HttpsConnector.of(jetty, http, tls, host, port));
      cfg.http.maxRequestSize = ApiPaths.DRAIN_BYTES;
      var r = cfg.routes;
      r.before(ctx -> {
        ctx.attribute(AuditTrail.PRINCIPAL, authenticate(s.credentials(), ctx.header("Authorization")));
        Bodies.refuseOversized(ctx);
      });
      r.beforeMatched(ctx -> {
        var matched = ctx.endpoints().matchedHttpEndpoint();
        String method = matched.method.name();
        String path = matched.path;
        Access.Rule rule = Access.rule(method, path);
        if (rule != null) {
          String action = rule.action();
          if (action.contains("{action}")) action = action.replace("{action}", ctx.pathParamMap().getOrDefault("action", "?"));
          ctx.attribute(AuditTrail.ACTION, action);
        }
        String target = ctx.pathParamMap().getOrDefault("name", ctx.pathParamMap().get("id"));
        if (target != null) ctx.attribute(AuditTrail.TARGET, target);
        Access.check(method, path, ctx.attribute(AuditTrail.PRINCIPAL));
      });
      r.exception(Exception.class, (e, ctx) -> {
        Problem p = ErrorClassifier.classify(e);
        ctx.attribute(AuditTrail.DETAIL, p.detail());
        Responses.problem(ctx, p);
      });
      r.after(audit::record);

      r.post(ApiPaths.HEARTBEAT, ctx -> {
        AgentHeartbeat beat = Bodies.read(ctx, AgentHeartbeat.class);
        Principal.Host from = ctx.attribute(AuditTrail.PRINCIPAL);
        if (!from.name().equals(beat.name())) {
          throw new ControllerException(ControllerException.Kind.FORBIDDEN, "the credential of host '" + from.name()
              + "' cannot send a heartbeat for host '" + beat.name() + "': each host speaks only for itself");
        }
        Responses.ok(ctx, 200, s.hosts().heartbeat(beat));
      });
      r.post(ApiPaths.HOST_CREDENTIAL, ctx -> Responses.ok(ctx, 201, s.credentials().enroll(ctx.pathParam("name"))));
      r.get(ApiPaths.TOKENS, ctx -> Responses.ok(ctx, 200, s.credentials().list()));
      r.post(ApiPaths.TOKENS, ctx -> Responses.ok(ctx, 201, s.credentials().create(Bodies.read(ctx, TokenCreateRequest.class))));
      r.delete(ApiPaths.TOKEN, ctx -> {
        s.credentials().revoke(ctx.pathParam("name"));
        ctx.status(204);
      });
      r.get(ApiPaths.AUDIT, ctx -> {
        Long limit = longParam(ctx, "limit");
        if (limit != null && (limit < 1 || limit > MAX_AUDIT_PAGE)) {
          throw ControllerException.invalid("limit", limit, "1-" + MAX_AUDIT_PAGE);
        }
        Responses.ok(ctx, 200, s.audit().list(limit == null ? DEFAULT_AUDIT_PAGE : limit.intValue(),
            longParam(ctx, "before"), ctx.queryParam("actor"), ctx.queryParam("action")));
      });
      r.get(ApiPaths.HOSTS, ctx -> Responses.ok(ctx, 200, s.hosts().views()));
      r.get(ApiPaths.POOLS, ctx -> Responses.ok(ctx, 200, s.pools().list()));
      r.post(ApiPaths.POOLS, ctx -> {
        PoolService.Created c = s.pools().create(Bodies.read(ctx, PoolCreateRequest.class));
        Responses.ok(ctx, c.changed() ? 201 : 200, c.pools());
      });
      r.get(ApiPaths.NETWORKS, ctx -> Responses.ok(ctx, 200, s.networks().list()));
      r.post(ApiPaths.NETWORKS, ctx -> {
        NetworkService.Created c = s.networks().create(Bodies.read(ctx, NetworkCreateRequest.class));
        Responses.ok(ctx, c.changed() ? 201 : 200, c.network());
      });
      r.get(ApiPaths.NETWORK, ctx -> Responses.ok(ctx, 200, s.networks().show(ctx.pathParam("name"))));
      r.get(ApiPaths.VMS, ctx -> {
        var page = ListParams.page(ctx);
        ListParams.answer(ctx, page, s.vms().list(page, ListParams.host(ctx), ListParams.vmState(ctx)),
            dev.ferry.api.VmView::name);
      });
      r.post(ApiPaths.VMS, ctx -> Responses.ok(ctx, 201, s.vms().create(Bodies.read(ctx, VmCreateRequest.class))));
      r.get(ApiPaths.VM, ctx -> Responses.ok(ctx, 200, s.vms().get(ctx.pathParam("name"))));
      r.delete(ApiPaths.VM, ctx -> {
        s.vms().delete(ctx.pathParam("name"));
        ctx.status(204);
      });
      // before VM_ACTION, whose {action} would match "unlock"
      r.post(ApiPaths.VM_UNLOCK, ctx -> Responses.ok(ctx, 200,
          s.migrations().unlock(ctx.pathParam("name"), Bodies.read(ctx, VmUnlockRequest.class))));
      r.post(ApiPaths.VM_ACTION, ctx -> Responses.ok(ctx, 200, s.vms().act(ctx.pathParam("name"),
          ctx.pathParam("action"), longParam(ctx, "timeout_ms"))));
      r.get(ApiPaths.VM_CONSOLE, ctx -> {
        Long tail = longParam(ctx, "tail");
        Responses.ok(ctx, 200, s.vms().console(ctx.pathParam("name"), longParam(ctx, "offset"),
            tail == null ? null : (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, tail))));
      });
      r.get(ApiPaths.EVENTS, events::handle);
      r.post(ApiPaths.MIGRATIONS_STORAGE, ctx -> Responses.ok(ctx, 201,
          s.migrations().startStorage(Bodies.read(ctx, StorageMigrationRequest.class))));
      r.post(ApiPaths.MIGRATIONS_COLD, ctx -> Responses.ok(ctx, 201,
          s.migrations().startCold(Bodies.read(ctx, dev.ferry.api.ColdMigrationRequest.class))));
      r.post(ApiPaths.MIGRATIONS_WARM, ctx -> Responses.ok(ctx, 201,
          s.migrations().startWarm(Bodies.read(ctx, dev.ferry.api.WarmMigrationRequest.class))));
      r.post(ApiPaths.MIGRATIONS_LIVE, ctx -> Responses.ok(ctx, 201,
          s.migrations().startLive(Bodies.read(ctx, LiveMigrationRequest.class))));
      r.post(ApiPaths.MIGRATIONS_LIVE_DRY_RUN, ctx -> Responses.ok(ctx, 200,
          s.migrations().dryRunLive(Bodies.read(ctx, LiveMigrationRequest.class))));
      r.get(ApiPaths.MIGRATIONS, ctx -> {
        var page = ListParams.page(ctx);
        ListParams.answer(ctx, page, s.migrations().list(page, ListParams.migrationFilter(ctx)), MigrationView::id);
      });
      r.get(ApiPaths.MIGRATION, ctx -> Responses.ok(ctx, 200, s.migrations().get(ctx.pathParam("id"))));
      r.post(ApiPaths.MIGRATION_CANCEL, ctx -> {
        MigrationView v = s.migrations().cancel(ctx.pathParam("id"));
        // 200: it ended (cancelled, or failed with the rollback's reason); 202: still rolling back
        Responses.ok(ctx, v.status() == MigrationStatus.RUNNING ? 202 : 200, v);
      });
      r.post(ApiPaths.MIGRATION_CUTOVER, ctx -> Responses.ok(ctx, 200, s.migrations().cutover(ctx.pathParam("id"))));
      if (s.ft() != null) {
        r.get(ApiPaths.FT, ctx -> Responses.ok(ctx, 200, s.ft().list()));
        r.post(ApiPaths.FT, ctx -> Responses.ok(ctx, 201, s.ft().enable(Bodies.read(ctx, dev.ferry.api.FtEnableRequest.class))));
        r.get(ApiPaths.FT_VM, ctx -> Responses.ok(ctx, 200, s.ft().status(ctx.pathParam("name"))));
        r.post(ApiPaths.FT_FAILOVER, ctx -> Responses.ok(ctx, 200, s.ft().failover(ctx.pathParam("name"))));
        r.delete(ApiPaths.FT_VM, ctx -> {
          s.ft().disable(ctx.pathParam("name"));
          ctx.status(204);
        });
      }
      r.get(ApiPaths.OPENAPI, ctx -> ctx.status(200).contentType("application/json").result(OpenApi.document()));
    });
    app.start();
    return new RestServer(app, events);
  }

  static final int DEFAULT_AUDIT_PAGE = 100;
  static final int MAX_AUDIT_PAGE = 1000;

  /** Who holds the bearer secret; 401 when nobody (or nothing was sent). */
  private static Principal authenticate(Credentials credentials, String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new ControllerException(ControllerException.Kind.UNAUTHORIZED,
          "missing bearer token: send Authorization: Bearer <token> (a user token from 'ferry token create')");
    }
    return credentials.resolve(authorization.substring(7)).orElseThrow(() -> new ControllerException(
        ControllerException.Kind.UNAUTHORIZED, "unknown bearer token: it was never issued or has been revoked"));
  }

  /** The port actually bound. */
  public int port() {
    return app.port();
  }

  /** Every registered route as {@code METHOD path}, e.g. {@code GET /api/vms/{name}}. */
  public List<String> routes() {
    return app.unsafe.internalRouter.allHttpHandlers().stream()
        .filter(e -> e.endpoint.method.isHttpMethod())
        .map(e -> e.endpoint.method.name() + " " + e.endpoint.path)
        .toList();
  }

  /** Stops serving; close the event bus first so that open event streams end. */
  @Override
  public void close() {
    try {
      events.awaitIdle(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    app.stop();
  }

  private static Long longParam(Context ctx, String name) {
    String v = ctx.queryParam(name);
    if (v == null) return null;
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw ControllerException.invalid(name, v, "an integer");
    }
  }
}
