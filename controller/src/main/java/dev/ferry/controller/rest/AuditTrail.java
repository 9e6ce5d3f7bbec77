package dev.ferry.controller.rest;

import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.PoolCreateRequest;
import dev.ferry.api.StorageMigrationRequest;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.auth.TokenCreateRequest;
import dev.ferry.controller.auth.Principal;
import dev.ferry.controller.store.AuditStore;
import io.javalin.http.Context;
import java.time.InstantSource;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every mutating call (POST, PUT, PATCH, DELETE) to the audit table once its answer is
 * known, refused ones included. The handlers before it leave what they learned in the request's
 * attributes: who called ({@link #PRINCIPAL}), what ({@link #ACTION}, from {@link Access}), on what
 * ({@link #TARGET}) and, on failure, why ({@link #DETAIL}).
 *
 * <p>An accepted heartbeat is not written: it is the liveness signal every host sends every few
 * seconds, recorded as the host's last heartbeat; a refused one is.
 */
final class AuditTrail {

  private static final Logger LOG = LoggerFactory.getLogger(AuditTrail.class);

  static final String PRINCIPAL = "ferry.principal";
  static final String ACTION = "ferry.action";
  static final String TARGET = "ferry.target";
  static final String DETAIL = "ferry.detail";

  private static final Set<String> MUTATING = Set.of("POST", "PUT", "PATCH", "DELETE");

  private final AuditStore store;
  private final InstantSource clock;

  AuditTrail(AuditStore store, InstantSource clock) {
    this.store = store;
    this.clock = clock;
  }

  void record(Context ctx) {
    String method = ctx.method().name();
    if (!MUTATING.contains(method)) return;
    String action = ctx.attribute(ACTION);
    if (action == null) action = method + " " + ctx.path();
    int status = ctx.statusCode();
    if (action.equals("host.heartbeat") && status < 400) return;
    Principal who = ctx.attribute(PRINCIPAL);
    String target = ctx.attribute(TARGET);
    if (target == null && status == 403) target = unreadTarget(ctx);
    String outcome = status < 400 ? "ok" : status == 401 || status == 403 ? "refused" : "failed";
    try {
      store.append(clock.instant(), who == null ? "-" : who.actor(), action, target, outcome, status,
          status < 400 ? null : ctx.attribute(DETAIL));
    } catch (RuntimeException e) {
      // the call has happened; losing its record is an error to see in the log, not a reason to fail the answer
      LOG.error("cannot write the audit record of {} {} ({} {}): {}", who == null ? "-" : who.actor(), action,
          outcome, status, e.toString());
    }
  }

  /**
   * A refused call's target from the body nobody read: a 403 comes after the size check, so the
   * body is known to be small; its {@code name} (or {@code vm}) is what the caller was after.
   */
  private static String unreadTarget(Context ctx) {
    try {
      long length = ctx.req().getContentLengthLong();
      if (length <= 0 || length > dev.ferry.api.ApiPaths.MAX_BODY_BYTES) return null;
      var node = dev.ferry.api.Json.mapper().readTree(ctx.req().getInputStream());
      if (node == null) return null;
      var named = node.hasNonNull("name") ? node.get("name") : node.get("vm");
      return named == null ? null : named.asText();
    } catch (java.io.IOException | RuntimeException e) {
      return null;
    }
  }

  /** The object a request body names, when the path does not: the VM, pool, token or host it creates or touches. */
  static String targetOf(Object body) {
    return switch (body) {
      case VmCreateRequest v -> v.name();
      case dev.ferry.api.NetworkCreateRequest n -> n.name();
      case PoolCreateRequest p -> p.host() == null ? p.name() : p.name() + "@" + p.host();
      case LiveMigrationRequest l -> l.vm();
      case StorageMigrationRequest s -> s.vm();
      case TokenCreateRequest t -> t.name();
      case AgentHeartbeat h -> h.name();
      case null, default -> null;
    };
  }
}
