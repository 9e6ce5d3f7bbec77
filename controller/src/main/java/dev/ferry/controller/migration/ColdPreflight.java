package dev.ferry.controller.migration;

import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.NetworkStore;
import dev.ferry.controller.store.NicRow;
import dev.ferry.controller.store.VmRow;

/** The checks of a cold migration that live migration's preflight makes the same way. */
final class ColdPreflight {

  private ColdPreflight() {}

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
