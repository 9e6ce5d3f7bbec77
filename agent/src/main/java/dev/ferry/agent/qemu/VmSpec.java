package dev.ferry.agent.qemu;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.ferry.api.Names;
import java.util.HashSet;
import java.util.List;

/**
 * What a VM is, independent of the host it runs on: the device model must be identical on a
 * migration's source and target, so everything that shapes it lives here.
 *
 * @param machineType a versioned machine type ({@code pc-q35-7.2}); an alias such as {@code q35}
 *                    is resolved once, when the VM is defined, so that it never changes under a
 *                    running VM
 * @param nics        the virtio-net NICs in order (null: none)
 */
// "nic" was a single NIC, always null, in records written before networks existed
@JsonIgnoreProperties({"nic"})
public record VmSpec(
    String name,
    int cpus,
    long memoryBytes,
    String machineType,
    String cpuModel,
    List<DiskSpec> disks,
    BootSource boot,
    List<NicSpec> nics) {

  public VmSpec {
    Names.require("vm name", name);
    if (cpus < 1 || cpus > 64) {
      throw new IllegalArgumentException("cpus " + cpus + " is not allowed: 1 to 64");
    }
    if (memoryBytes < 16L << 20 || memoryBytes % 4096 != 0) {
      throw new IllegalArgumentException("memory " + memoryBytes + " bytes is not allowed: at least 16 MiB, whole 4 KiB pages");
    }
    if (machineType == null || !machineType.matches("[a-z0-9.-]{1,40}")) {
      throw new IllegalArgumentException("machine type '" + machineType + "' is not valid");
    }
    if (cpuModel == null || !cpuModel.matches("[A-Za-z0-9_.-]{1,40}")) {
      throw new IllegalArgumentException("cpu model '" + cpuModel + "' is not valid");
    }
    disks = disks == null ? List.of() : List.copyOf(disks);
    var ids = new HashSet<String>();
    for (DiskSpec d : disks) {
      if (!ids.add(d.id())) throw new IllegalArgumentException("disk id '" + d.id() + "' is used twice");
    }
    nics = nics == null ? List.of() : List.copyOf(nics);
    var taps = new HashSet<String>();
    for (NicSpec n : nics) {
      if (!taps.add(n.tap())) throw new IllegalArgumentException("nic tap '" + n.tap() + "' is used twice");
    }
    if (boot == null) throw new IllegalArgumentException("vm " + name + " needs a boot source (kernel or image)");
    if (boot instanceof BootSource.Image && disks.isEmpty()) {
      throw new IllegalArgumentException("vm " + name + " boots from an image but has no disk");
    }
  }

  public VmSpec withMachineType(String resolved) {
    return new VmSpec(name, cpus, memoryBytes, resolved, cpuModel, disks, boot, nics);
  }

  public VmSpec withDisks(List<DiskSpec> newDisks) {
    return new VmSpec(name, cpus, memoryBytes, machineType, cpuModel, newDisks, boot, nics);
  }
}
