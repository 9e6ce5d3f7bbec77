package dev.ferry.controller.ft;

import dev.ferry.api.FtEnableRequest;
import dev.ferry.api.FtView;
import dev.ferry.api.HostView;
import dev.ferry.api.Json;
import dev.ferry.api.Names;
import dev.ferry.api.Sizes;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.FtRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NetworkStore.NetworkRow;
import dev.ferry.controller.store.NicRow;
import dev.ferry.api.PoolView;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every check of {@code ft enable} before anything is written or any agent is asked to act, each
 * refusal naming its field: the VM exists, runs and was created FT-ready, is not protected yet,
 * the secondary is another host that is known, has the bridge of each of the VM's networks,
 * online, FT-capable by its probe and has the memory (the secondary keeps a RAM cache: twice the
 * guest's RAM, colo.md) and a pool for each replica; the primary's QEMU passed the probe too.
 */
final class FtPreflight {

  /** What enable acts on. */
  record Plan(VmRow vm, HostRow primary, HostRow secondary, int intervalMs, List<CopyStorageDisk> replicas) {}

  /** the secondary's RAM for one protected guest: its RAM plus COLO's RAM cache of the same size */
  static final int SECONDARY_MEMORY_FACTOR = 2;

  private final Store store;
  private final HostRegistry hosts;

  FtPreflight(Store store, HostRegistry hosts) {
    this.store = store;
    this.hosts = hosts;
  }

  Plan check(FtEnableRequest r) {
    if (r == null) throw ControllerException.invalid("body", "", "an ft enable request");
    if (!Names.valid(r.vm())) throw ControllerException.invalid("vm", r.vm(), Names.RULE);
    if (r.secondary() == null || r.secondary().isBlank()) {
      throw ControllerException.invalid("secondary", r.secondary(), "the host to run the secondary on");
    }
    int interval = r.checkpointIntervalMs() == null ? FtEnableRequest.DEFAULT_CHECKPOINT_INTERVAL_MS
        : r.checkpointIntervalMs();
    if (interval < FtEnableRequest.MIN_CHECKPOINT_INTERVAL_MS || interval > FtEnableRequest.MAX_CHECKPOINT_INTERVAL_MS) {
      throw ControllerException.invalid("checkpoint_interval_ms", interval, FtEnableRequest.MIN_CHECKPOINT_INTERVAL_MS
          + "-" + FtEnableRequest.MAX_CHECKPOINT_INTERVAL_MS + " milliseconds");
    }
    VmRow vm = store.vms().find(r.vm()).orElseThrow(() -> ControllerException.notFound("vm", r.vm(),
        "vm '" + r.vm() + "' does not exist", null));
    FtRow existing = store.ft().find(vm.name()).orElse(null);
    if (existing != null && FtPhase.of(existing.phase()).guards()) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is already under fault tolerance ("
          + FtPhase.of(existing.phase()).state() + ", secondary on " + existing.secondaryHost() + ")");
    }
    if (r.secondary().equals(vm.host())) {
      throw ControllerException.invalid("secondary", r.secondary(), "another host than the primary's",
          "secondary '" + r.secondary() + "' is the host vm '" + vm.name() + "' runs on; the secondary must run on"
              + " another host, or a host failure takes both");
    }
    HostRow secondary = hosts.requireOnline("secondary", r.secondary());
    HostRow primary = hosts.requireOnline("vm", vm.host());
    if (vm.state() != VmState.RUNNING) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' is "
          + vm.state().name().toLowerCase(java.util.Locale.ROOT) + "; only a running vm can be protected");
    }
    VmCreateRequest spec = spec(vm);
    if (!spec.ft()) {
      throw ControllerException.conflict("vm", vm.name(), "vm '" + vm.name() + "' was not created ft-ready: its disks"
          + " have no quorum node for the replication and it runs on " + vm.machineType() + "; create it with"
          + " 'ferry vm create --ft-ready' (a running vm cannot change its disk layout or machine type)");
    }
    return secondaryFor(vm, primary, secondary, interval);
  }

  /**
   * The checks of a secondary host for a VM already known to run FT-ready on {@code primary}:
   * what a re-protection asks of each candidate, each refusal as {@link #check} words it.
   */
  Plan secondaryFor(VmRow vm, HostRow primary, HostRow secondary, int interval) {
    requireNetworks(vm, secondary);
    requireFt("vm", primary);
    requireFt("secondary", secondary);
    requireMemory(vm, secondary);
    return new Plan(vm, primary, secondary, interval, replicas(vm, secondary));
  }

  /** The secondary's NIC joins the same network at a takeover: its host needs each network's bridge. */
  private void requireNetworks(VmRow vm, HostRow secondary) {
    for (NicRow nic : store.networks().nics(vm.name())) {
      String bridge = store.networks().find(nic.network()).map(NetworkRow::bridge).orElse(null);
      if (bridge == null || !hosts.hasBridge(secondary.name(), bridge)) {
        throw ControllerException.conflict("secondary", secondary.name(), "host '" + secondary.name()
            + "' does not have bridge '" + bridge + "' of network '" + nic.network() + "' (nic " + nic.mac() + " of vm '"
            + vm.name() + "'); the secondary takes the vm's place on its networks at a failover");
      }
    }
  }

  private VmCreateRequest spec(VmRow vm) {
    try {
      return Json.mapper().readValue(vm.spec(), VmCreateRequest.class);
    } catch (IOException e) {
      throw new ControllerException(ControllerException.Kind.INTERNAL, "vm '" + vm.name() + "' has an unreadable spec", e);
    }
  }

  /** The host's probe: the refusal names the binary and why it failed. */
  private void requireFt(String field, HostRow host) {
    FtView ft = hosts.view(host).ft();
    if (ft == null) {
      throw ControllerException.conflict(field, host.name(), "host '" + host.name() + "' has not reported its FT"
          + " capability (an agent from before fault tolerance, or no heartbeat since the controller started)");
    }
    if (!ft.supported()) {
      throw ControllerException.conflict(field, host.name(), "host '" + host.name() + "' cannot run fault tolerance: its"
          + " QEMU " + (ft.binary() == null ? "" : ft.binary() + " ") + "failed the COLO probe: " + ft.reason());
    }
  }

  private void requireMemory(VmRow vm, HostRow secondary) {
    long guest = Math.max(vm.memoryRequestedBytes(), vm.memoryGivenBytes());
    long need = SECONDARY_MEMORY_FACTOR * guest;
    HostView view = hosts.view(secondary);
    long held = 0;
    for (FtRow other : store.ft().all()) {
      // a VM's own row names a host it left (an old primary after a failover) until it is re-protected
      if (other.vm().equals(vm.name())) continue;
      if (!other.secondaryHost().equals(secondary.name()) || !FtPhase.of(other.phase()).guards()) continue;
      held += store.vms().find(other.vm()).map(v -> SECONDARY_MEMORY_FACTOR
          * Math.max(v.memoryRequestedBytes(), v.memoryGivenBytes())).orElse(0L);
    }
    long free = Math.max(0, view.memoryFreeBytes() - held);
    if (need > free) {
      throw ControllerException.conflict("secondary", secondary.name(), "host '" + secondary.name() + "' has "
          + Sizes.format(free) + " of memory free (" + Sizes.format(view.memoryBytes()) + " total, "
          + Sizes.format(view.memoryCommittedBytes()) + " committed" + (held > 0 ? ", " + Sizes.format(held)
          + " held by other secondaries" : "") + "); the secondary of vm '" + vm.name() + "' needs " + Sizes.format(need)
          + " (its RAM and COLO's RAM cache)");
    }
  }

  /** Each disk's replica in the secondary's pool of the same name. */
  private List<CopyStorageDisk> replicas(VmRow vm, HostRow secondary) {
    List<PoolView> pools = store.pools().onHost(secondary.name());
    List<CopyStorageDisk> out = new ArrayList<>();
    for (DiskRow d : store.vms().disks(vm.name())) {
      if (pools.stream().noneMatch(p -> p.name().equals(d.pool()))) {
        throw ControllerException.conflict("secondary", secondary.name(), "host '" + secondary.name() + "' has no pool '"
            + d.pool() + "' for the replica of disk " + d.id() + " of vm '" + vm.name() + "' (pools there: "
            + pools.stream().map(PoolView::name).toList() + ")");
      }
      if (d.sizeBytes() <= 0) {
        throw ControllerException.conflict("vm", vm.name(), "disk " + d.id() + " of vm '" + vm.name() + "' has no recorded"
            + " size (an image given at create time); only disks Ferry created can be replicated yet");
      }
      out.add(new CopyStorageDisk(d.id(), d.pool(), d.format(), d.sizeBytes()));
    }
    return out;
  }
}
