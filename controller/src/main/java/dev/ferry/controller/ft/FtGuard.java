package dev.ferry.controller.ft;

import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.FtRow;
import dev.ferry.controller.store.Store;

/**
 * The refusal of what a protected VM must not do (issue 12): live, storage and cold migration,
 * stop and delete would each take the guest away from its secondary. {@code kill} is not guarded.
 */
public final class FtGuard {

  private FtGuard() {}

  /** 409 when {@code vm} is under fault tolerance; {@code action} as the user said it. */
  public static void requireUnprotected(Store store, String vm, String action) {
    FtRow row = store.ft().find(vm).orElse(null);
    if (row == null) return;
    FtPhase phase = FtPhase.of(row.phase());
    if (!phase.guards()) return;
    throw ControllerException.conflict("vm", vm, "vm '" + vm + "' is under fault tolerance (" + phase.state()
        + ", primary " + row.primaryHost() + ", secondary " + row.secondaryHost() + "); disable it first"
        + " (ferry ft disable " + vm + ") to " + action + " it");
  }
}
