package dev.ferry.agent.qemu;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the QEMU command line of a VM. Source and target of a migration call this with the same
 * spec, so their device models are identical by construction; only the run directory and the
 * launch options differ.
 */
public final class QemuCommandLine {

  private static final ObjectMapper JSON = new ObjectMapper();

  private QemuCommandLine() {}

  public static List<String> build(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options) {
    return build(qemu, spec, run, options, false);
  }

  /**
   * With {@code vhost} the NICs' packets are moved by the kernel's vhost-net instead of QEMU's
   * main loop (only when the tap carries virtio-net headers). It is not part of the migrated
   * device state, so source and target may differ.
   */
  public static List<String> build(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, boolean vhost) {
    return build(qemu, spec, run, options, vhost, DiskLayout.PLAIN);
  }

  /** With the disks' block nodes laid out by {@code layout}; everything else, devices included, as always. */
  public static List<String> build(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, boolean vhost,
      DiskLayout layout) {
    var args = new ArrayList<String>();
    args.add(qemu.systemBinary().toString());
    args.addAll(List.of("-name", "guest=" + spec.name() + ",debug-threads=on"));
    // -nodefaults: no implicit devices, so nothing differs between two hosts' QEMU builds
    args.addAll(List.of("-nodefaults", "-no-user-config", "-display", "none", "-msg", "timestamp=on"));
    // seccomp: a guest that takes over QEMU still cannot exec, fork, change ids or use obsolete syscalls
    args.addAll(List.of("-sandbox", QemuUser.SANDBOX));
    args.addAll(List.of("-accel", options.accelerator().qemuName()));
    args.addAll(List.of("-machine", spec.machineType()));
    args.addAll(List.of("-cpu", spec.cpuModel()));
    args.addAll(List.of("-smp", Integer.toString(spec.cpus())));
    args.addAll(List.of("-m", options.memory().qemuArgument()));
    args.addAll(List.of("-pidfile", run.pidFile().toString()));
    args.addAll(List.of("-chardev", "socket,id=qmp,path=" + run.qmpSocket() + ",server=on,wait=off"));
    args.addAll(List.of("-mon", "chardev=qmp,mode=control"));
    args.addAll(List.of("-chardev", "file,id=serial0,path=" + run.console() + ",append=on"));
    args.addAll(List.of("-serial", "chardev:serial0"));
    switch (spec.boot()) {
      case BootSource.Kernel k -> {
        args.addAll(List.of("-kernel", k.kernel()));
        if (k.initrd() != null) args.addAll(List.of("-initrd", k.initrd()));
        args.addAll(List.of("-append", withConsole(k.append())));
      }
      case BootSource.Image i -> args.addAll(List.of("-boot", "order=c"));
    }
    for (DiskSpec disk : spec.disks()) {
      List<Map<String, Object>> nodes = layout.nodes(disk);
      for (Map<String, Object> node : nodes) args.addAll(List.of("-blockdev", json(node)));
      args.addAll(List.of("-device", "virtio-blk-pci,drive=" + nodes.getLast().get("node-name") + ",id=" + disk.deviceId()));
    }
    for (int i = 0; i < spec.nics().size(); i++) {
      NicSpec nic = spec.nics().get(i);
      String id = "net" + i;
      args.addAll(List.of("-netdev", "tap,id=" + id + ",ifname=" + nic.tap() + ",script=no,downscript=no"
          + ",vnet_hdr=" + (nic.vnetHdr() ? "on" : "off") + ",vhost=" + (vhost && nic.vnetHdr() ? "on" : "off")));
      args.addAll(List.of("-device", "virtio-net-pci,netdev=" + id + ",mac=" + nic.mac() + ",id=" + id + "-dev"));
    }
    if (options.paused()) args.add("-S");
    if (options.incoming()) args.addAll(List.of("-incoming", "defer"));
    return List.copyOf(args);
  }

  public static Map<String, Object> fileNode(DiskSpec disk) {
    var node = new LinkedHashMap<String, Object>();
    node.put("driver", "file");
    node.put("filename", disk.path());
    node.put("node-name", disk.fileNode());
    node.put("cache", Map.of("direct", false, "no-flush", false));
    return node;
  }

  public static Map<String, Object> formatNode(DiskSpec disk) {
    var node = new LinkedHashMap<String, Object>();
    node.put("driver", disk.format().driver());
    node.put("file", disk.fileNode());
    node.put("node-name", disk.formatNode());
    return node;
  }

  /** The serial console is how tests and users see the guest; never let an append string lose it. */
  private static String withConsole(String append) {
    return append.contains("console=") ? append : ("console=ttyS0 " + append).strip();
  }

  private static String json(Map<String, Object> value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + value, e);
    }
  }
}
