package dev.ferry.controller.migration;

import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NetworkStore;
import dev.ferry.controller.store.NicRow;
import dev.ferry.controller.store.VmRow;
import java.util.List;

/** The checks of a cold or warm migration (some of which live migration's preflight makes the same way). */
final class ColdPreflight {

  private ColdPreflight() {}

  /**
   * What the target must offer a VM whose disks are copied to it, cold or warm (each refusal
   * names its field): the VM's CPU model, networks and machine type, no VM of its name (it would
   * be redefined, and deleted by a rollback), and a pool for every disk, {@code targetPool} or
   * the disk's own pool name. The VM's disks.
   */
  static List<DiskRow> requireTarget(MigrationContext ctx, VmRow vm, HostRow source, HostRow target,
      String targetPool) {
    CpuPreflight.check(vm.name(), vm.cpuModel(), source, target, ctx.hosts().cpu(source.name()),
        ctx.hosts().cpu(target.name()));
    requireNetworks(ctx, vm, target.name());
    requireMachineType(ctx, vm, target.name());
    requireNoVmOnTarget(ctx, vm.name(), target.name());
    List<DiskRow> disks = ctx.store().vms().disks(vm.name());
    if (disks.isEmpty()) throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' has no disks");
    for (DiskRow d : disks) {
      String pool = targetPool != null ? targetPool : d.pool();
      String field = targetPool != null ? "target_pool" : "vm";
      if (pool == null || ctx.store().pools().find(pool, target.name()).isEmpty()) {
        throw ControllerException.notFound(field, pool, "disk " + d.id() + " goes to pool '" + pool
            + "', which does not exist on host '" + target.name() + "'; name one with --target-pool", null);
      }
    }
    return disks;
  }

  /**
   * The target must not know a VM of this name already (a leftover, or one defined behind Ferry's
   * back): the migration would redefine it, and a rollback would delete it. 409 naming it.
   */
  static void requireNoVmOnTarget(MigrationContext ctx, String vm, String target) {
    if (targetHasVm(ctx, target, vm)) {
      throw ControllerException.conflict("vm", vm, "host '" + target + "' already has a vm named '" + vm
          + "' (not the one being migrated); Ferry neither overwrites nor deletes it: remove it from host '"
          + target + "' first");
    }
  }

  /** Whether the agent of {@code host} answers for a VM of that name (404: no). */
  static boolean targetHasVm(MigrationContext ctx, String host, String vm) {
    try {
      ctx.retrying(host, "status of vm " + vm, () -> ctx.agent(host).vm(vm));
      return true;
    } catch (ControllerException e) {
      if (e.kind() == ControllerException.Kind.AGENT_REJECTED && e.agentProblem() != null
          && e.agentProblem().status() == 404) {
        return false;
      }
      throw e;
    }
  }

  /**
   * The target's QEMU must offer the VM's machine type: 409 naming it, the host and what the host
   * has of the same family. A host that did not report its types is left to refuse the definition.
   */
  static void requireMachineType(MigrationContext ctx, VmRow vm, String target) {
    var types = ctx.hosts().machineTypes(target);
    if (types.isEmpty() || vm.machineType() == null || types.get().contains(vm.machineType())) return;
    String family = vm.machineType().replaceAll("-[0-9.]+$", "");
    var near = types.get().stream().filter(t -> t.startsWith(family)).sorted().toList();
    throw ControllerException.conflict("to", target, "host '" + target + "' lacks machine type '" + vm.machineType()
        + "' of vm '" + vm.name() + "' in its QEMU" + (near.isEmpty() ? "" : " (it has " + String.join(", ", near) + ")"));
  }

  /** The target must have the bridge of every network the VM has a NIC on: 409 naming network and host. */
  static void requireNetworks(MigrationContext ctx, VmRow vm, String target) {
    for (NicRow n : ctx.store().networks().nics(vm.name())) {
      String bridge = ctx.store().networks().find(n.network()).map(NetworkStore.NetworkRow::bridge).orElse(null);
      if (bridge == null || !ctx.hosts().hasBridge(target, bridge)) {
        throw ControllerException.conflict("to", target, "host '" + target + "' lacks network '" + n.network()
            + "' (bridge '" + bridge + "') of vm '" + vm.name() + "'");
      }
    }
  }
}
