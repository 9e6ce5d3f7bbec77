package dev.ferry.controller.vms;

import dev.ferry.api.HostState;
import dev.ferry.api.VmState;
import dev.ferry.api.VmView;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Turns stored VMs into API views; a VM of a host that is not online shows {@code unknown}. */
final class VmViews {

  private final Store store;

  VmViews(Store store) {
    this.store = store;
  }

  VmView view(VmRow vm) {
    HostRow host = store.hosts().find(vm.host()).orElse(null);
    return view(vm, store.vms().disks(vm.name()), host == null || host.state() != HostState.ONLINE);
  }

  List<VmView> all() {
    Map<String, HostRow> hosts = store.hosts().all().stream().collect(Collectors.toMap(HostRow::name, Function.identity()));
    Map<String, List<DiskRow>> disks = store.vms().allDisks();
    return store.vms().all().stream().map(vm -> {
      HostRow host = hosts.get(vm.host());
      return view(vm, disks.getOrDefault(vm.name(), List.of()), host == null || host.state() != HostState.ONLINE);
    }).toList();
  }

  /** {@code unknown} keeps the stored state in the store and hides it in the view: it is not trusted. */
  static VmView view(VmRow vm, List<DiskRow> disks, boolean unknown) {
    return new VmView(vm.name(), vm.host(), unknown ? VmState.UNKNOWN : vm.state(), vm.cpus(),
        vm.memoryRequestedBytes(), vm.memoryGivenBytes(), vm.memoryAdjustment(), vm.machineType(), vm.cpuModel(),
        vm.accelerator(), unknown ? null : vm.pid(), disks.stream().map(DiskRow::view).toList());
  }
}
