package dev.ferry.controller.migration;

import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.LiveMigrationRequest;
import dev.ferry.api.Names;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NetworkStore;
import dev.ferry.controller.store.NicRow;
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
  private final Admission admission;

  LivePreflight(MigrationContext ctx, Admission admission) {
    this.ctx = ctx;
    this.admission = admission;
  }

  Plan check(LiveMigrationRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "a live migration request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    if (!Names.valid(r.to())) throw ControllerException.invalid("to", r.to(), "the name of a host: " + Names.RULE);
    LiveOptions options = LiveOptions.validate(r, false);
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
    // unasked post-copy depends on the target host and on a recent measurement of the guest
    if (r.postcopy() == null && r.multifd() == null && ctx.hosts().postcopyReady(target.name())) {
      Predictor predictor = new Predictor(ctx);
      options = LiveOptions.validate(r, predictor.armsPostcopy(r, true, source.name(), target.name(),
          vm.memoryGivenBytes(), predictor.recent(source.name(), vm.name())));
    }
    CpuPreflight.check(vm.name(), vm.cpuModel(), source, target, ctx.hosts().cpu(source.name()),
        ctx.hosts().cpu(target.name()));
    requireNetworks(vm, target);
    // a first answer without the lock; Admission checks again under it, counting migrations arriving meanwhile
    admission.requireMemory(vm, target);
    List<CopyStorageDisk> copies = storage(vm, source, target, options);
    return new Plan(vm, source, target, copies, options);
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

  /** The target must have the bridge of every network the VM has a NIC on: 409 naming network and host. */
  private void requireNetworks(VmRow vm, HostRow target) {
    for (NicRow n : ctx.store().networks().nics(vm.name())) {
      String bridge = ctx.store().networks().find(n.network()).map(NetworkStore.NetworkRow::bridge).orElse(null);
      if (bridge == null || !ctx.hosts().hasBridge(target.name(), bridge)) {
        throw ControllerException.conflict("to", target.name(), "host '" + target.name() + "' lacks network '"
            + n.network() + "' (bridge '" + bridge + "') of vm '" + vm.name() + "'");
      }
    }
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
