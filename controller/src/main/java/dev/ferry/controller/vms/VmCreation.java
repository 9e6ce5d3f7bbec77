package dev.ferry.controller.vms;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.Json;
import dev.ferry.api.PoolView;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.api.agent.VolumeView;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.HostRow;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.store.VmRow;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a validated VM creation on the owning host: create the disk images, define, start
 * (unless asked not to), and only then store the VM. Any failure undoes the steps already done in
 * reverse order, each undo best-effort on its own, so neither the agent nor the store is left
 * with half a VM. A step the agent refused with a 4xx changed nothing on the agent and needs no
 * undo; a step that failed otherwise (timeout, 5xx) may have happened and is undone too.
 */
final class VmCreation {

  private static final Logger LOG = LoggerFactory.getLogger(VmCreation.class);

  static final String MACHINE_TYPE = "q35";
  /** An FT-ready VM's: with q35 the COLO secondary aborts at its first checkpoint (docs/ft.md). */
  static final String FT_MACHINE_TYPE = "pc";
  /** Under TCG (no {@code host} model there): what Ferry always used, runs on every x86-64 QEMU. */
  static final String TCG_CPU_MODEL = "qemu64";

  private final Store store;
  private final AgentClient agents;
  private final String cpuBaseline;

  VmCreation(Store store, AgentClient agents, String cpuBaseline) {
    this.store = store;
    this.agents = agents;
    this.cpuBaseline = cpuBaseline;
  }

  /**
   * The cluster's baseline when it names one (every host can then take every VM, as the migration
   * preflight checks); else all of the host's CPU under KVM, {@code qemu64} under TCG.
   */
  static String cpuModel(String baseline, HostRow host) {
    if (baseline != null) return baseline;
    return "kvm".equals(host.accelerator()) ? "host" : TCG_CPU_MODEL;
  }

  private record Volume(String pool, String name) {}

  /** Runs the plan; returns the stored VM. On failure everything done so far is undone and the cause rethrown. */
  VmRow run(CreationPlan plan, HostRow host, List<CreationPlan.NewDisk> newDisks, List<PoolView> poolsOnHost,
      NicAssignment nics) {
    VmCreateRequest r = plan.request();
    String cpuModel = cpuModel(cpuBaseline, host);
    String name = r.name();
    List<Volume> volumes = new ArrayList<>();
    List<DiskRow> disks = new ArrayList<>();
    boolean defined = false;
    boolean started = false;
    String step = "create disks";
    try {
      if (r.image() != null) {
        disks.add(new DiskRow(name, "disk0", CreationPlan.poolOf(r.image(), poolsOnHost), plan.bootFormat(),
            r.image(), 0, false));
      }
      for (CreationPlan.NewDisk d : newDisks) {
        String file = d.fileName(name);
        VolumeView v;
        try {
          v = agents.of(host).createVolume(new VolumeCreateRequest(d.pool().name(), file, d.sizeBytes(), d.format()));
        } catch (ControllerException e) {
          if (e.kind() != Kind.AGENT_REJECTED) volumes.add(new Volume(d.pool().name(), file));
          throw e;
        }
        volumes.add(new Volume(d.pool().name(), file));
        String path = v != null && v.path() != null ? v.path() : d.pool().path() + "/" + file;
        disks.add(new DiskRow(name, d.id(), d.pool().name(), d.format(), path, d.sizeBytes(), true));
      }
      step = "define";
      String machine = r.ft() ? FT_MACHINE_TYPE : MACHINE_TYPE;
      AgentVmDefinition definition = new AgentVmDefinition(name, r.cpus(), r.memoryBytes(), machine, cpuModel,
          r.kernel(), r.initrd(), r.append(), disks.stream().map(d -> new AgentDisk(d.id(), d.path(), d.format())).toList(),
          nics.agentNics().isEmpty() ? null : nics.agentNics(), r.ft() ? Boolean.TRUE : null);
      AgentVmStatus status;
      try {
        status = agents.of(host).defineVm(name, definition).value();
      } catch (ControllerException e) {
        defined = e.kind() != Kind.AGENT_REJECTED;
        throw e;
      }
      defined = true;
      if (Boolean.TRUE.equals(r.start())) {
        step = "start";
        started = true;
        status = agents.of(host).start(name);
      }
      step = "store";
      VmRow row = new VmRow(name, host.name(), Json.mapper().writeValueAsString(r), VmState.STOPPED, r.cpus(),
          r.memoryBytes(), r.memoryBytes(), null, machine, cpuModel, host.accelerator(), null);
      if (status != null) row = row.with(status);
      store.vms().insert(row, disks, nics.rows());
      return row;
    } catch (RuntimeException | JsonProcessingException e) {
      LOG.info("vm '{}' on host '{}': {} failed ({}); undoing", name, host.name(), step, e.getMessage());
      undo(host, name, started, defined, volumes);
      if (e instanceof RuntimeException re) throw re;
      throw new ControllerException(Kind.INTERNAL, "cannot encode the spec of vm '" + name + "'", e);
    }
  }

  private void undo(HostRow host, String name, boolean started, boolean defined, List<Volume> volumes) {
    if (started) {
      attempt("kill vm '" + name + "'", () -> agents.of(host).kill(name));
    }
    if (defined) {
      attempt("undefine vm '" + name + "'", () -> agents.of(host).deleteVm(name, false));
    }
    for (Volume v : volumes.reversed()) {
      attempt("delete volume '" + v.name() + "' in pool '" + v.pool() + "'",
          () -> agents.of(host).deleteVolume(v.pool(), v.name()));
    }
  }

  private static void attempt(String what, Runnable undo) {
    try {
      undo.run();
    } catch (ControllerException e) {
      if (e.kind() == Kind.AGENT_REJECTED && e.agentProblem().status() == 404) return; // already gone
      LOG.warn("undo step failed, left behind: {}: {}", what, e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("undo step failed, left behind: {}: {}", what, e.toString());
    }
  }
}
