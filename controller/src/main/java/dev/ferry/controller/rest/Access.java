package dev.ferry.controller.rest;

import static dev.ferry.api.auth.Role.ADMIN;
import static dev.ferry.api.auth.Role.OPERATOR;
import static dev.ferry.api.auth.Role.VIEWER;

import dev.ferry.api.ApiPaths;
import dev.ferry.api.auth.Role;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.auth.Principal;
import java.util.Map;

/**
 * THE table of who may call what: every route of the controller, keyed {@code METHOD path} as
 * Javalin registers it, with the least role it needs (or "a host, for itself") and the action
 * name the audit log records. A route missing here is refused for everyone, and
 * {@code AccessTableTest} fails on it, so no route can be added without deciding who may call it.
 */
final class Access {

  /** What a route needs. */
  sealed interface Rule {
    /** The audit log's name for the call, e.g. {@code vm.create}. */
    String action();
  }

  /** A user token of at least this role. */
  record UserRule(Role least, String action) implements Rule {}

  /** A host's own credential (the heartbeat); the handler checks that it speaks for itself. */
  record HostRule(String action) implements Rule {}

  private static final Map<String, Rule> TABLE = Map.ofEntries(
      Map.entry("POST " + ApiPaths.HEARTBEAT, new HostRule("host.heartbeat")),
      Map.entry("GET " + ApiPaths.HOSTS, new UserRule(VIEWER, "host.list")),
      Map.entry("POST " + ApiPaths.HOST_CREDENTIAL, new UserRule(ADMIN, "host.enroll")),
      Map.entry("GET " + ApiPaths.POOLS, new UserRule(VIEWER, "pool.list")),
      Map.entry("POST " + ApiPaths.POOLS, new UserRule(ADMIN, "pool.create")),
      Map.entry("GET " + ApiPaths.NETWORKS, new UserRule(VIEWER, "network.list")),
      Map.entry("GET " + ApiPaths.NETWORK, new UserRule(VIEWER, "network.show")),
      Map.entry("POST " + ApiPaths.NETWORKS, new UserRule(ADMIN, "network.create")),
      Map.entry("GET " + ApiPaths.VMS, new UserRule(VIEWER, "vm.list")),
      Map.entry("POST " + ApiPaths.VMS, new UserRule(OPERATOR, "vm.create")),
      Map.entry("GET " + ApiPaths.VM, new UserRule(VIEWER, "vm.show")),
      Map.entry("DELETE " + ApiPaths.VM, new UserRule(OPERATOR, "vm.delete")),
      Map.entry("POST " + ApiPaths.VM_UNLOCK, new UserRule(OPERATOR, "vm.unlock")),
      // the audit log names the action itself: vm.start, vm.stop, vm.kill
      Map.entry("POST " + ApiPaths.VM_ACTION, new UserRule(OPERATOR, "vm.{action}")),
      Map.entry("GET " + ApiPaths.VM_CONSOLE, new UserRule(VIEWER, "vm.console")),
      Map.entry("GET " + ApiPaths.EVENTS, new UserRule(VIEWER, "event.stream")),
      Map.entry("POST " + ApiPaths.MIGRATIONS_STORAGE, new UserRule(OPERATOR, "migration.storage")),
      Map.entry("POST " + ApiPaths.MIGRATIONS_COLD, new UserRule(OPERATOR, "migration.cold")),
      Map.entry("POST " + ApiPaths.MIGRATIONS_WARM, new UserRule(OPERATOR, "migration.warm")),
      Map.entry("POST " + ApiPaths.MIGRATIONS_LIVE, new UserRule(OPERATOR, "migration.live")),
      // the same rights as the migration itself: its refusals say what the cluster holds
      Map.entry("POST " + ApiPaths.MIGRATIONS_LIVE_DRY_RUN, new UserRule(OPERATOR, "migration.live.dry-run")),
      Map.entry("GET " + ApiPaths.MIGRATIONS, new UserRule(VIEWER, "migration.list")),
      Map.entry("GET " + ApiPaths.MIGRATION, new UserRule(VIEWER, "migration.show")),
      Map.entry("POST " + ApiPaths.MIGRATION_CANCEL, new UserRule(OPERATOR, "migration.cancel")),
      Map.entry("POST " + ApiPaths.MIGRATION_CUTOVER, new UserRule(OPERATOR, "migration.cutover")),
      Map.entry("GET " + ApiPaths.FT, new UserRule(VIEWER, "ft.list")),
      Map.entry("POST " + ApiPaths.FT, new UserRule(OPERATOR, "ft.enable")),
      Map.entry("GET " + ApiPaths.FT_VM, new UserRule(VIEWER, "ft.status")),
      Map.entry("DELETE " + ApiPaths.FT_VM, new UserRule(OPERATOR, "ft.disable")),
      Map.entry("POST " + ApiPaths.FT_FAILOVER, new UserRule(OPERATOR, "ft.failover")),
      Map.entry("GET " + ApiPaths.TOKENS, new UserRule(ADMIN, "token.list")),
      Map.entry("POST " + ApiPaths.TOKENS, new UserRule(ADMIN, "token.create")),
      Map.entry("DELETE " + ApiPaths.TOKEN, new UserRule(ADMIN, "token.revoke")),
      Map.entry("GET " + ApiPaths.AUDIT, new UserRule(ADMIN, "audit.list")),
      Map.entry("GET " + ApiPaths.OPENAPI, new UserRule(VIEWER, "openapi.show")));

  private Access() {}

  /** The rule of {@code METHOD path}, or null when the table has none. */
  static Rule rule(String method, String path) {
    return TABLE.get(method + " " + path);
  }

  /** Every entry's key, for the test that matches the table against the registered routes. */
  static java.util.Set<String> keys() {
    return TABLE.keySet();
  }

  /** Throws 403 unless {@code who} may call the route; the message names what is needed. */
  static void check(String method, String path, Principal who) {
    Rule rule = rule(method, path);
    if (rule == null) {
      throw new ControllerException(Kind.INTERNAL, "route " + method + " " + path + " has no entry in the access table");
    }
    switch (rule) {
      case UserRule u -> {
        switch (who) {
          case Principal.User user -> {
            if (!user.role().allows(u.least())) {
              throw new ControllerException(Kind.FORBIDDEN, method + " " + path + " needs role " + u.least().text()
                  + " (or above); token '" + user.name() + "' has role " + user.role().text());
            }
          }
          case Principal.Host host -> throw new ControllerException(Kind.FORBIDDEN, method + " " + path
              + " needs a user token with role " + u.least().text() + " (or above); a host credential (host '"
              + host.name() + "') is accepted only for the heartbeat");
        }
      }
      case HostRule h -> {
        if (!(who instanceof Principal.Host)) {
          throw new ControllerException(Kind.FORBIDDEN, method + " " + path
              + " needs a host's own credential (from 'ferry host enroll'); a user token is not accepted");
        }
      }
    }
  }
}
