package dev.ferry.controller.migration;

import dev.ferry.controller.ControllerException;
import dev.ferry.controller.hosts.HostCpuFacts;
import dev.ferry.controller.store.HostRow;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Refuses a live migration to a host whose CPU cannot give the guest what it may be using. A guest
 * that read its CPU's features at boot keeps using them; on a target without one it dies with an
 * illegal instruction, after the point of no return.
 *
 * <ul>
 *   <li>CPU model {@code host} (every feature of the source's CPU, under KVM): the target must run
 *       KVM and its CPU must have every flag of the source's ({@code /proc/cpuinfo}).
 *   <li>A named model ({@code qemu64}, or the cluster's {@code --cpu-model} baseline): the target's
 *       QEMU must run that model under its accelerator without dropping a feature.
 * </ul>
 * An agent that reported no CPU facts (older than this check) passes a named model, since Ferry
 * only ever used {@code qemu64} then, but never {@code host}.
 */
final class CpuPreflight {

  static final String HOST_MODEL = "host";
  private static final int SHOWN = 12;

  private CpuPreflight() {}

  static void check(String vm, String cpuModel, HostRow source, HostRow target, Optional<HostCpuFacts> sourceCpu,
      Optional<HostCpuFacts> targetCpu) {
    if (HOST_MODEL.equals(cpuModel)) {
      if (!"kvm".equals(target.accelerator())) {
        throw refuse(target, "vm '" + vm + "' runs with cpu model host (all of host '" + source.name()
            + "''s cpu, under kvm) and host '" + target.name() + "' runs " + target.accelerator()
            + ", where that model does not exist");
      }
      List<String> have = targetCpu.map(HostCpuFacts::flags).orElse(List.of());
      List<String> need = sourceCpu.map(HostCpuFacts::flags).orElse(List.of());
      if (have.isEmpty() || need.isEmpty()) {
        throw refuse(target, "vm '" + vm + "' runs with cpu model host and host '"
            + (need.isEmpty() ? source.name() : target.name()) + "' has not reported its cpu flags; cannot tell whether "
            + "host '" + target.name() + "' has every feature the guest may use");
      }
      var missing = new TreeSet<>(need);
      missing.removeAll(have);
      if (!missing.isEmpty()) {
        throw refuse(target, "host '" + target.name() + "' lacks " + missing.size() + " cpu feature(s) of host '"
            + source.name() + "' that vm '" + vm + "' (cpu model host) may use: " + shown(missing)
            + "; migrate to a host with the same cpu, or run the cluster with a baseline (ferry controller --cpu-model)");
      }
      return;
    }
    List<String> runs = targetCpu.map(HostCpuFacts::models).orElse(List.of());
    if (!runs.isEmpty() && !runs.contains(cpuModel)) {
      throw refuse(target, "host '" + target.name() + "' cannot run cpu model '" + cpuModel + "' of vm '" + vm
          + "' without dropping features under " + target.accelerator() + " (it runs: " + shown(runs) + ")");
    }
  }

  private static String shown(java.util.Collection<String> names) {
    List<String> all = List.copyOf(names);
    String head = String.join(", ", all.subList(0, Math.min(SHOWN, all.size())));
    return all.size() > SHOWN ? head + ", … (" + all.size() + " in all)" : head;
  }

  private static ControllerException refuse(HostRow target, String message) {
    return ControllerException.conflict("to", target.name(), message);
  }
}
