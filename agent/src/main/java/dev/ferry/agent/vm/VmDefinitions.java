package dev.ferry.agent.vm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.pool.ImageChain;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.BootSource;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.NicSpec;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.api.Macs;
import dev.ferry.api.TapNames;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.Names;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a definition from the wire into a {@link VmSpec}, checking every field at the edge so the
 * answer names the field: paths through the pool guard, the machine-type alias resolved to the
 * versioned type of this QEMU once, here, so it never changes under a defined VM.
 */
final class VmDefinitions {

  static final String DEFAULT_MACHINE = "q35";
  static final String FT_MACHINE = "pc";
  /** a CPU model every x86 host can provide, so the VM can migrate anywhere */
  static final String DEFAULT_CPU = "qemu64";

  /** a kernel command line longer than this is no configuration but a payload; x86 allows 2048 */
  static final int MAX_APPEND = 1024;

  private VmDefinitions() {}

  /**
   * The kernel command line: printable ASCII only, so no control character reaches QEMU's argv, the
   * console log or a terminal showing {@code vm show}.
   */
  static String requireAppend(String append) {
    if (append == null) return null;
    if (append.length() > MAX_APPEND || !append.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
      String shown = append.length() > 80 ? append.substring(0, 80) + "… (" + append.length() + " characters)" : append;
      throw AgentException.badInput("append", shown.replaceAll("\\p{Cntrl}", "?"), "at most " + MAX_APPEND
          + " printable ASCII characters (space to '~'), no control characters");
    }
    return append;
  }

  /**
   * The NICs' specs on this host. An ft-ready VM's taps carry plain frames unless told otherwise:
   * COLO's network filters compare and rewrite frames without virtio-net headers (colo.md).
   */
  static List<NicSpec> nics(String vm, List<AgentNic> given, String hostName, boolean ftReady) {
    List<NicSpec> out = new ArrayList<>();
    if (given == null) return out;
    if (given.size() > TapNames.MAX_NICS) {
      throw AgentException.badInput("nics", given.size() + " nics", "at most " + TapNames.MAX_NICS);
    }
    for (int i = 0; i < given.size(); i++) {
      AgentNic n = given.get(i);
      String f = "nics[" + i + "]";
      if (n == null) throw AgentException.badInput(f, null, "a nic with bridge and mac");
      if (!Macs.valid(n.mac())) throw AgentException.badInput(f + ".mac", n.mac(), Macs.RULE + ", lower-case hex");
      try {
        out.add(new NicSpec(n.mac(), TapNames.of(hostName, vm, i, n.mac()), n.bridge(),
            n.vnetHdr() == null ? !ftReady : n.vnetHdr()));
      } catch (IllegalArgumentException e) {
        throw AgentException.badInput(f + ".bridge", n.bridge(), "a Linux bridge name, at most 15 characters");
      }
    }
    return out;
  }

  static VmSpec toSpec(String name, AgentVmDefinition def, Pools pools, QemuInstallation qemu) {
    return toSpec(name, def, pools, qemu, null);
  }

  /** {@code hostName} names this host in the taps' names; null only for a VM without NICs. */
  static VmSpec toSpec(String name, AgentVmDefinition def, Pools pools, QemuInstallation qemu, String hostName) {
    if (!Names.valid(name)) throw AgentException.badInput("name", name, Names.RULE);
    if (def.name() != null && !def.name().equals(name)) {
      throw AgentException.badInput("name", def.name(), "the name in the request path, '" + name + "'");
    }
    if (def.cpus() < 1 || def.cpus() > 64) throw AgentException.badInput("cpus", Integer.toString(def.cpus()), "1 to 64");
    if (def.memoryBytes() < 16L << 20 || def.memoryBytes() % 4096 != 0) {
      throw AgentException.badInput("memory_bytes", Long.toString(def.memoryBytes()),
          "at least 16 MiB (16777216), a multiple of 4096");
    }
    String machine = def.machineType() == null ? def.ft() ? FT_MACHINE : DEFAULT_MACHINE : def.machineType();
    String resolved;
    try {
      resolved = qemu.resolveMachineType(machine);
    } catch (AgentException e) {
      throw AgentException.badInput("machine_type", machine,
          "a machine type of qemu " + qemu.version() + " (qemu-system-x86_64 -machine help), e.g. q35 or pc-q35-7.2");
    }
    if (def.ft() && !resolved.startsWith("pc-i440fx-")) {
      // docs/ft.md: the COLO secondary aborts at its first checkpoint load with q35
      throw AgentException.badInput("machine_type", machine, "an i440fx type (pc, pc-i440fx-7.2) for an ft-ready vm:"
          + " with q35 the COLO secondary aborts at its first checkpoint");
    }
    String cpu = def.cpuModel() == null ? DEFAULT_CPU : def.cpuModel();
    if (!cpu.matches("[A-Za-z0-9_.-]{1,40}")) throw AgentException.badInput("cpu_model", cpu, "a qemu cpu model such as qemu64 or max");

    List<DiskSpec> disks = new ArrayList<>();
    List<AgentDisk> given = def.disks() == null ? List.of() : def.disks();
    for (int i = 0; i < given.size(); i++) {
      AgentDisk d = given.get(i);
      String field = "disks[" + i + "]";
      if (d == null) throw AgentException.badInput(field, null, "a disk with id, path and format");
      String id = d.id() == null ? "disk" + i : d.id();
      DiskFormat format;
      try {
        format = DiskFormat.parse(d.format() == null ? "qcow2" : d.format());
      } catch (IllegalArgumentException e) {
        throw AgentException.badInput(field + ".format", d.format(), "qcow2 or raw");
      }
      Path real = pools.guard(field + ".path", d.path());
      ImageChain.require(field + ".path", real, format.driver(), pools, qemu.imgBinary());
      String path = real.toString();
      try {
        disks.add(new DiskSpec(id, path, format));
      } catch (IllegalArgumentException e) {
        throw AgentException.badInput(field + ".id", id, "1-16 lower-case letters and digits, starting with a letter");
      }
    }

    BootSource boot;
    if (def.kernel() != null) {
      String kernel = pools.guard("kernel", def.kernel()).toString();
      String initrd = def.initrd() == null ? null : pools.guard("initrd", def.initrd()).toString();
      boot = new BootSource.Kernel(kernel, initrd, requireAppend(def.append()));
    } else if (def.initrd() != null) {
      throw AgentException.badInput("initrd", def.initrd(), "only together with a kernel");
    } else if (disks.isEmpty()) {
      throw AgentException.badInput("kernel", null, "a kernel path, or at least one disk to boot from");
    } else {
      boot = new BootSource.Image();
    }
    List<NicSpec> nics = nics(name, def.nics(), hostName, def.ft());
    try {
      return new VmSpec(name, def.cpus(), def.memoryBytes(), resolved, cpu, disks, boot, nics);
    } catch (IllegalArgumentException e) {
      throw new AgentException(AgentException.Kind.INVALID, "vm " + name + " is not valid: " + e.getMessage(), e);
    }
  }
}
