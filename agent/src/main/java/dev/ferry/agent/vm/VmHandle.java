package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.BlockNodes;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.VmSpec;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What other parts of the agent (storage moves) may see and change of one VM: its directory, its
 * spec, its QEMU when one runs, and the image behind a disk. Obtained from {@link Vms#withVm}
 * (under the VM's action lock) or {@link Vms#peek} (reads only).
 */
public final class VmHandle {

  private final ManagedVm vm;

  VmHandle(ManagedVm vm) {
    this.vm = vm;
  }

  public String name() {
    return vm.name();
  }

  /** {@code DIR/vms/NAME} */
  public Path dir() {
    return vm.dir();
  }

  public RunDir runDir() {
    return vm.runDir();
  }

  public VmSpec spec() {
    return vm.record().spec();
  }

  /** The disk called {@code id}, or 404 naming the disks the VM has. */
  public DiskSpec disk(String id) {
    return spec().disks().stream().filter(d -> d.id().equals(id)).findFirst()
        .orElseThrow(() -> new AgentException(Kind.NOT_FOUND, "vm " + name() + " has no disk '" + id + "'; disks: "
            + spec().disks().stream().map(DiskSpec::id).toList()));
  }

  /** The QEMU this agent is attached to, if the VM runs. */
  public Optional<QemuProcess> process() {
    return Optional.ofNullable(vm.process());
  }

  /** How its QEMU ended (pid, status or signal) when the VM crashed and this agent saw it end. */
  public Optional<String> lastExit() {
    return vm.lastExit();
  }

  /** The block nodes the running QEMU uses for {@code disk}: after a live move not {@code disk0}. */
  public BlockNodes nodes(DiskSpec disk) {
    return vm.nodes(disk);
  }

  /** The VM's state as the API reports it (memory given, machine type, pid). */
  public dev.ferry.api.agent.AgentVmStatus status() {
    return vm.status();
  }

  /** The definition as it was sent (with the paths of this host). */
  public dev.ferry.api.agent.AgentVmDefinition definition() {
    return vm.record().definition();
  }

  /** Starts QEMU for an incoming migration with exactly {@code plan}'s RAM; call under {@link Vms#withVm}. */
  public dev.ferry.api.agent.AgentVmStatus startIncoming(dev.ferry.agent.qemu.MemoryPlan plan) {
    return vm.startIncoming(plan);
  }

  /** {@code quit} (no power button), SIGKILL if QEMU stays; call under {@link Vms#withVm}. */
  public dev.ferry.api.agent.AgentVmStatus quit() {
    return vm.quit();
  }

  /** SIGKILL; call under {@link Vms#withVm}. */
  public dev.ferry.api.agent.AgentVmStatus kill() {
    return vm.kill();
  }

  /** Points a disk at another image (persisted); {@code liveNodes} when the running QEMU already uses it. */
  public void switchDisk(String id, Path image, DiskFormat format, BlockNodes liveNodes) {
    vm.switchDisk(id, image, format, liveNodes);
  }
}
