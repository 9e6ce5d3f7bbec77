package dev.ferry.controller.migration;

import dev.ferry.api.HostView;
import dev.ferry.api.Sizes;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.MigrationRow;
import dev.ferry.controller.store.VmRow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checks that depend on the other migrations, made under the service's lock right before a
 * migration is recorded, so that two requests cannot both pass them: no other migration of the
 * VM (the store's unique index refuses one that slipped through anyway), the per-host limit for
 * every kind of migration, and for a live one the target's memory with the migrations already
 * arriving there counted as reserved.
 */
final class Admission {

  private final MigrationContext ctx;
  /** Migrations (live or storage) a host may take part in at once, as source or target. */
  private final int maxPerHost;

  Admission(MigrationContext ctx, int maxPerHost) {
    this.ctx = ctx;
    this.maxPerHost = maxPerHost;
  }

  void requireNoOtherMigration(String vm) {
    dev.ferry.controller.ft.FtGuard.requireUnprotected(ctx.store(), vm, "migrate");
    ctx.store().migrations().runningForVm(vm).ifPresent(m -> {
      throw alreadyMigrating(vm, m);
    });
  }

  static ControllerException alreadyMigrating(String vm, MigrationRow m) {
    return ControllerException.conflict("vm", vm, "vm '" + vm + "' is already in migration " + m.id() + " (" + m.kind()
        + ", phase " + m.phase() + ")");
  }

  /** @param hosts each host the migration touches, with the request field that named it (in order) */
  void requireHostCapacity(String vm, Map<String, String> hosts) {
    List<MigrationRow> running = ctx.store().migrations().running();
    for (var e : hosts.entrySet()) {
      String host = e.getKey();
      long busy = running.stream().filter(m -> m.source().equals(host) || m.target().equals(host)).count();
      if (busy >= maxPerHost) {
        String field = e.getValue();
        throw ControllerException.conflict(field, field.equals("vm") ? vm : host, "host '" + host
            + "' already takes part in " + busy + " migration" + (busy == 1 ? "" : "s") + ", at most " + maxPerHost
            + " at once (controller option --max-migrations-per-host); try again later");
      }
    }
  }

  static Map<String, String> fields(String source, String target) {
    var hosts = new LinkedHashMap<String, String>();
    hosts.put(source, "vm");
    hosts.putIfAbsent(target, "to");
    return hosts;
  }

  /** The target's free memory minus what live migrations already arriving there will take. */
  void requireMemory(VmRow vm, HostRow target) {
    long need = Math.max(vm.memoryRequestedBytes(), vm.memoryGivenBytes());
    HostView view = ctx.hosts().view(target);
    long arriving = 0;
    for (MigrationRow m : ctx.store().migrations().running()) {
      if (m.kind().equals("live") && m.target().equals(target.name())) {
        arriving += ctx.store().vms().find(m.vm()).map(v -> Math.max(v.memoryRequestedBytes(), v.memoryGivenBytes()))
            .orElse(0L);
      }
    }
    long free = Math.max(0, view.memoryFreeBytes() - arriving);
    if (need > free) {
      throw ControllerException.conflict("to", target.name(), "host '" + target.name() + "' has " + Sizes.format(free)
          + " of memory free (" + Sizes.format(view.memoryBytes()) + " total, " + Sizes.format(view.memoryCommittedBytes())
          + " committed" + (arriving > 0 ? ", " + Sizes.format(arriving) + " arriving by migration" : "")
          + "); vm '" + vm.name() + "' needs " + Sizes.format(need));
    }
  }
}
