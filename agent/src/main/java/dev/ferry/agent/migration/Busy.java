package dev.ferry.agent.migration;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VMs a live migration holds on this host, and why: while one does, the ordinary
 * start/stop/kill/redefine/delete of that VM answer 409 ({@code Vms.ActionGuard}). Kept in memory
 * and set from each persisted phase change, so the check never reads a file.
 */
final class Busy {

  private final Map<String, String> why = new ConcurrentHashMap<>();

  void set(String vm, boolean busy, String reason) {
    if (busy) why.put(vm, reason);
    else why.remove(vm);
  }

  void check(String vm, String action) {
    String reason = why.get(vm);
    if (reason != null) {
      throw new AgentException(Kind.CONFLICT, "cannot " + action + " vm " + vm + ": " + reason);
    }
  }
}
