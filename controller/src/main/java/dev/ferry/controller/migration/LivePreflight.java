package dev.ferry.controller.migration;

import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.HostView;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.Names;
import dev.ferry.api.PoolView;
import dev.ferry.api.Sizes;
import dev.ferry.api.VmState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.MigrationRow;
import dev.ferry.controller.store.VmRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The checks before a live migration starts, each refusal naming the field: 400 bad input, 404
 * unknown VM, host or pool, 409 a conflict with the cluster's state. Nothing is changed here.
 * Whether the target's QEMU has the source's machine type only the target agent knows; it refuses
 * the {@code PUT incoming} with a 400 that is passed through.
 */
final class LivePreflight {

  /** What passed preflight: the VM, its two hosts, the disks to copy and the options. */
  record Plan(VmRow vm, HostRow source, HostRow target, List<CopyStorageDisk> copies, LiveOptions options) {}

  private final MigrationContext ctx;
  /** Migrations (live or storage) a host may take part in at once, as source or target, before a new one is refused. */
  private final int maxPerHost;

  LivePreflight(MigrationContext ctx, int maxPerHost) {
    this.ctx = ctx;
    this.maxPerHost = maxPerHost;
  }

  Plan check(LiveMigrationRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a live migration request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    if (!Names.valid(r.to())) throw ControllerException.invalid("to", r.to(), "the name of a host: " + Names.RULE);
    LiveOptions options = LiveOptions.validate(r);
    VmRow vm = ctx.store().vms().find(r.vm()).orElseThrow(() -> ControllerException.notFound("vm", r.vm(),
        "vm '" + r.vm() + "' is not known", null));
    HostRow target = ctx.hosts().require("to", r.to());
    if (target.name().equals(vm.host())) {
      throw ControllerException.conflict("to", r.to(), "vm '" + vm.name() + "' already runs on host '" + r.to()
          + "'; name another host");
    }
    if (vm.state() != VmState.RUNNING) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is " + lower(vm.state())
          + "; only a running vm migrates live (start it, or move a stopped vm's disks with ferry migrate storage)");
    }
    HostRow source = ctx.hosts().requireOnline("vm", vm.host());
    ctx.hosts().requireOnline("to", target.name());
    requireMemory(vm, target);
    List<CopyStorageDisk> copies = storage(vm, source, target, options);
    return new Plan(vm, source, target, copies, options);
  }

  /** Checked again under the service's lock, right before the migration is recorded. */
  void requireNoOtherMigration(Plan p) {
    ctx.store().migrations().runningForVm(p.vm().name()).ifPresent(m -> {
      throw ControllerException.conflict("vm", p.vm().name(), "vm '" + p.vm().name() + "' is already in migration "
          + m.id() + " (" + m.kind() + ", phase " + m.phase() + ")");
    });
    List<MigrationRow> running = ctx.store().migrations().running();
    for (var host : List.of(p.source().name(), p.target().name())) {
      long busy = running.stream().filter(m -> m.source().equals(host) || m.target().equals(host)).count();
      if (busy >= maxPerHost) {
        String field = host.equals(p.target().name()) ? "to" : "vm";
        throw ControllerException.conflict(field, field.equals("to") ? host : p.vm().name(), "host '" + host
            + "' already takes part in " + busy + " migration" + (busy == 1 ? "" : "s") + ", at most " + maxPerHost
            + " at once (controller option --max-migrations-per-host); try again later");
      }
    }
  }

  private void requireMemory(VmRow vm, HostRow target) {
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

  /**
   * Every disk must be on a pool shared by both hosts (same name), or be copied: with copy_storage
   * the target must have the same pool, or target_pool. Disks on shared pools are never copied.
   */
  private List<CopyStorageDisk> storage(VmRow vm, HostRow source, HostRow target, LiveOptions o) {
    List<CopyStorageDisk> copies = new ArrayList<>();
    for (DiskRow d : ctx.store().vms().disks(vm.name())) {
      if (shared(d.pool(), source, target)) continue;
      String where = d.pool() == null ? "outside every pool" : "on pool '" + d.pool() + "'";
      if (!o.copyStorage()) {
        throw ControllerException.conflict("copy_storage", false, "disk " + d.id() + " of vm '" + vm.name() + "' is "
            + where + ", which is not shared with host '" + target.name() + "': add --copy-storage to copy it"
            + " (or move it to a shared pool first with ferry migrate storage)");
      }
      String pool = o.targetPool() != null ? o.targetPool() : d.pool();
      String field = o.targetPool() != null ? "target_pool" : "copy_storage";
      if (pool == null || ctx.store().pools().find(pool, target.name()).isEmpty()) {
        String known = String.join(", ", ctx.store().pools().onHost(target.name()).stream().map(PoolView::name).toList());
        throw ControllerException.notFound(field, pool, "disk " + d.id() + " is " + where + " and pool '" + pool
            + "' does not exist on host '" + target.name() + "' (pools there: " + (known.isEmpty() ? "none" : known)
            + "); name one with --target-pool", known);
      }
      if (d.sizeBytes() <= 0) {
        throw ControllerException.conflict("copy_storage", true, "disk " + d.id() + " of vm '" + vm.name()
            + "' has no known size (a boot image Ferry did not create); it can only migrate on shared storage");
      }
      copies.add(new CopyStorageDisk(d.id(), pool, d.format(), d.sizeBytes()));
    }
    return copies;
  }

  private boolean shared(String pool, HostRow source, HostRow target) {
    if (pool == null) return false;
    Optional<PoolView> here = ctx.store().pools().find(pool, source.name());
    Optional<PoolView> there = ctx.store().pools().find(pool, target.name());
    return here.isPresent() && there.isPresent() && here.get().shared() && there.get().shared()
        && here.get().path().equals(there.get().path());
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
