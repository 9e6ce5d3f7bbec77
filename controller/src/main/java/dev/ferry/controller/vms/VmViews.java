package dev.ferry.controller.vms;

import dev.ferry.api.HostState;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import dev.ferry.api.NicView;
import dev.ferry.api.TapNames;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.networks.Leases;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.NicRow;
import dev.ferry.controller.store.Page;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Turns stored VMs into API views; a VM of a host that is not online shows {@code unknown}. */
final class VmViews {

  private final Store store;
  private final Leases leases;

  VmViews(Store store, Leases leases) {
    this.store = store;
    this.leases = leases;
  }

  VmView view(VmRow vm) {
    HostRow host = store.hosts().find(vm.host()).orElse(null);
    return view(vm, store.vms().disks(vm.name()), store.networks().nics(vm.name()),
        host == null || host.state() != HostState.ONLINE, leases);
  }

  /** {@code v} with its fault tolerance, when it is under one (a failed enable shows none). */
  VmView withFt(VmView v) {
    return store.ft().find(v.name()).map(r -> v.withFt(ft(r))).orElse(v);
  }

  static dev.ferry.api.VmFtView ft(dev.ferry.controller.store.FtRow r) {
    var phase = dev.ferry.controller.ft.FtPhase.of(r.phase());
    if (!phase.guards()) return null;
    boolean alone = phase == dev.ferry.controller.ft.FtPhase.UNPROTECTED;
    return new dev.ferry.api.VmFtView(phase.state(), alone ? null : r.secondaryHost());
  }

  /**
   * One page of VMs. {@code state} filters on the state shown: {@code unknown} means the VMs of
   * hosts that are not online, any other state those of online hosts whose stored state it is.
   */
  List<VmView> page(Page page, String host, VmState state) {
    Map<String, HostRow> hosts = store.hosts().all().stream().collect(Collectors.toMap(HostRow::name, Function.identity()));
    java.util.function.Predicate<VmRow> shown = vm -> {
      HostRow h = hosts.get(vm.host());
      boolean unknown = h == null || h.state() != HostState.ONLINE;
      return state == null || (state == VmState.UNKNOWN ? unknown : !unknown);
    };
    List<VmRow> rows = new java.util.ArrayList<>();
    Page next = page;
    // the stored state alone cannot say "unknown", so a state filter may need more than one query
    while (rows.size() < page.limit()) {
      List<VmRow> batch = store.vms().page(next, host, state == VmState.UNKNOWN ? null : state);
      batch.stream().filter(shown).limit(page.limit() - rows.size()).forEach(rows::add);
      if (batch.size() < next.limit()) break;
      next = new Page(batch.getLast().name(), page.limit());
    }
    Map<String, List<DiskRow>> disks = store.vms().disksOf(rows.stream().map(VmRow::name).toList());
    Map<String, List<NicRow>> nics = store.networks().nicsOf(rows.stream().map(VmRow::name).toList());
    Map<String, dev.ferry.controller.store.FtRow> ft = store.ft().all().stream()
        .collect(Collectors.toMap(dev.ferry.controller.store.FtRow::vm, Function.identity()));
    return rows.stream().map(vm -> {
      HostRow h = hosts.get(vm.host());
      VmView v = view(vm, disks.getOrDefault(vm.name(), List.of()), nics.getOrDefault(vm.name(), List.of()),
          h == null || h.state() != HostState.ONLINE, leases);
      dev.ferry.controller.store.FtRow f = ft.get(vm.name());
      return f == null ? v : v.withFt(ft(f));
    }).toList();
  }

  /** {@code unknown} keeps the stored state in the store and hides it in the view: it is not trusted. */
  static VmView view(VmRow vm, List<DiskRow> disks, List<NicRow> nics, boolean unknown, Leases leases) {
    return new VmView(vm.name(), vm.host(), unknown ? VmState.UNKNOWN : vm.state(), vm.cpus(),
        vm.memoryRequestedBytes(), vm.memoryGivenBytes(), vm.memoryAdjustment(), vm.machineType(), vm.cpuModel(),
        vm.accelerator(), unknown ? null : vm.pid(), disks.stream().map(DiskRow::view).toList(),
        nics.stream().map(n -> nic(vm, n, leases)).toList());
  }

  /** The tap is the one on the VM's current host; the address is the DHCP lease's, when Ferry serves DHCP there. */
  private static NicView nic(VmRow vm, NicRow n, Leases leases) {
    return new NicView(n.network(), n.mac(), TapNames.of(vm.host(), vm.name(), n.index(), n.mac()),
        leases.ip(n.network(), n.mac()).orElse(null));
  }
}
