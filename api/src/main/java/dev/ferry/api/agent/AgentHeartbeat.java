package dev.ferry.api.agent;

import dev.ferry.api.FtView;
import dev.ferry.api.PoolView;
import java.util.List;

/**
 * {@code POST /api/agents/heartbeat}, every few seconds from each agent. The first one registers
 * the host; each one replaces what the controller knows of the host's resources and VM states.
 *
 * @param accelerator      {@code kvm} or {@code tcg}, what the host's VMs run under
 * @param acceleratorProbe why: the accelerator probe's finding in words
 * @param cpuFlags         the host CPU's flags ({@code /proc/cpuinfo}), what {@code -cpu host} passes on
 * @param cpuModels        the named QEMU CPU models the host runs under its accelerator without
 *                         dropping a feature; the live migration preflight compares these
 * @param bridges          the Linux bridges of the host; a VM migrates only to a host that has
 *                         the bridges of its networks
 * @param machineTypes     the machine types the host's QEMU offers, versioned names and aliases
 *                         ({@code pc-q35-7.2}, {@code q35}); a VM migrates cold only to a host that
 *                         has its machine type. Null: not reported (the check is left to the
 *                         target's definition)
 * @param postcopyReady    whether this host can be the target of a post-copy (its QEMU gets a
 *                         userfaultfd); a live migration arms post-copy by default only towards a
 *                         host that said true. Null: not reported
 */
public record AgentHeartbeat(
    String name,
    String url,
    int cpus,
    long memoryBytes,
    String qemuVersion,
    String accelerator,
    List<PoolView> pools,
    List<AgentVmStatus> vms,
    String acceleratorProbe,
    List<String> cpuFlags,
    List<String> cpuModels,
    List<String> bridges,
    FtView ft,
    List<String> machineTypes,
    Boolean postcopyReady) {

  /** A heartbeat without the post-copy readiness (agents before post-copy became the last rung by default, tests). */
  public AgentHeartbeat(String name, String url, int cpus, long memoryBytes, String qemuVersion, String accelerator,
      List<PoolView> pools, List<AgentVmStatus> vms, String acceleratorProbe, List<String> cpuFlags,
      List<String> cpuModels, List<String> bridges, FtView ft, List<String> machineTypes) {
    this(name, url, cpus, memoryBytes, qemuVersion, accelerator, pools, vms, acceleratorProbe, cpuFlags, cpuModels, bridges,
        ft, machineTypes, null);
  }

  /** A heartbeat without the machine types (agents before cold migration's preflight, tests). */
  public AgentHeartbeat(String name, String url, int cpus, long memoryBytes, String qemuVersion, String accelerator,
      List<PoolView> pools, List<AgentVmStatus> vms, String acceleratorProbe, List<String> cpuFlags,
      List<String> cpuModels, List<String> bridges, FtView ft) {
    this(name, url, cpus, memoryBytes, qemuVersion, accelerator, pools, vms, acceleratorProbe, cpuFlags, cpuModels, bridges,
        ft, null);
  }

  /** A heartbeat without the CPU facts (agents before issue 10, tests). */
  public AgentHeartbeat(String name, String url, int cpus, long memoryBytes, String qemuVersion, String accelerator,
      List<PoolView> pools, List<AgentVmStatus> vms) {
    this(name, url, cpus, memoryBytes, qemuVersion, accelerator, pools, vms, null, null, null, null, null);
  }

  /** A heartbeat without the host's bridges (agents before networks, tests). */
  public AgentHeartbeat(String name, String url, int cpus, long memoryBytes, String qemuVersion, String accelerator,
      List<PoolView> pools, List<AgentVmStatus> vms, String acceleratorProbe, List<String> cpuFlags,
      List<String> cpuModels) {
    this(name, url, cpus, memoryBytes, qemuVersion, accelerator, pools, vms, acceleratorProbe, cpuFlags, cpuModels, null, null);
  }

  /** A heartbeat without the FT capability (agents before issue 12, tests). */
  public AgentHeartbeat(String name, String url, int cpus, long memoryBytes, String qemuVersion, String accelerator,
      List<PoolView> pools, List<AgentVmStatus> vms, String acceleratorProbe, List<String> cpuFlags,
      List<String> cpuModels, List<String> bridges) {
    this(name, url, cpus, memoryBytes, qemuVersion, accelerator, pools, vms, acceleratorProbe, cpuFlags, cpuModels, bridges,
        null);
  }
}
