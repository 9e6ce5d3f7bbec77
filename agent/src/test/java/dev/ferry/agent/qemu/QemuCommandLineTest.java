package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QemuCommandLineTest {

  private static final QemuInstallation QEMU = new QemuInstallation(Path.of("/usr/bin/qemu-system-x86_64"),
      Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 19),
      List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
          "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)", "pc-q35-7.1           Standard PC (Q35 + ICH9, 2009)"));
  private static final RunDir RUN = new RunDir(Path.of("/var/lib/ferry/vms/web/run"));
  private static final VmSpec SPEC = new VmSpec("web", 2, 512L << 20, "pc-q35-7.2", "qemu64",
      List.of(new DiskSpec("disk0", "/pools/local/web-disk0.qcow2", DiskFormat.QCOW2)),
      new BootSource.Kernel("/pools/shared/vmlinuz", "/pools/shared/initrd.img", "ferry.mem=32:8"), null);

  @Test
  void build_kernelBootWithDisk_hasExplicitNodeNamesAndConsole() {
    var plan = MemoryPlan.plan(SPEC.memoryBytes(), Accelerator.TCG, QEMU.version());

    List<String> args = QemuCommandLine.build(QEMU, SPEC, RUN, LaunchOptions.running(Accelerator.TCG, plan));

    assertThat(args.getFirst()).isEqualTo("/usr/bin/qemu-system-x86_64");
    assertThat(args).containsSequence("-machine", "pc-q35-7.2")
        .containsSequence("-accel", "tcg")
        .containsSequence("-m", "524280k")
        .containsSequence("-smp", "2")
        .containsSequence("-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny")
        .containsSequence("-append", "console=ttyS0 ferry.mem=32:8")
        .containsSequence("-device", "virtio-blk-pci,drive=disk0,id=disk0-dev")
        .contains("-blockdev")
        .doesNotContain("-S", "-incoming");
    assertThat(String.join(" ", args))
        .contains("{\"driver\":\"file\",\"filename\":\"/pools/local/web-disk0.qcow2\",\"node-name\":\"disk0-file\"")
        .contains("{\"driver\":\"qcow2\",\"file\":\"disk0-file\",\"node-name\":\"disk0\"}")
        .contains("path=/var/lib/ferry/vms/web/run/qmp.sock,server=on,wait=off")
        .contains("file,id=serial0,path=/var/lib/ferry/vms/web/run/console.log");
  }

  @Test
  void build_withALayout_eachNodeInOrderAndTheDeviceOnTheLast() {
    var plan = MemoryPlan.plan(SPEC.memoryBytes(), Accelerator.TCG, QEMU.version());
    DiskLayout topped = disk -> List.of(QemuCommandLine.fileNode(disk), QemuCommandLine.formatNode(disk),
        java.util.Map.of("driver", "quorum", "node-name", disk.id() + "-top", "children", List.of(disk.id())));

    List<String> args = QemuCommandLine.build(QEMU, SPEC, RUN, LaunchOptions.running(Accelerator.TCG, plan), false, topped);

    assertThat(args.stream().filter(a -> a.equals("-blockdev")).count()).isEqualTo(3);
    assertThat(args).containsSequence("-device", "virtio-blk-pci,drive=disk0-top,id=disk0-dev");
    assertThat(String.join(" ", args).indexOf("\"node-name\":\"disk0\""))
        .isLessThan(String.join(" ", args).indexOf("disk0-top"));
  }

  @Test
  void build_incoming_startsPausedAndDeferred() {
    var plan = MemoryPlan.plan(SPEC.memoryBytes(), Accelerator.KVM, QEMU.version());

    List<String> args = QemuCommandLine.build(QEMU, SPEC, RUN, new LaunchOptions(Accelerator.KVM, plan, false, true));

    assertThat(args).contains("-S").containsSequence("-incoming", "defer").containsSequence("-m", "524288k");
  }

  @Test
  void build_nics_tapPerNicWithoutScriptsAndTheMac_vnetHdrOffOnRequest() {
    var spec = new VmSpec("web", 1, 512L << 20, "pc-q35-7.2", "qemu64", List.of(),
        new BootSource.Kernel("/k", null, ""), List.of(new NicSpec("52:54:00:0a:0b:0c", "fy0123456789n0", "br0", true),
            new NicSpec("52:54:00:0a:0b:0d", "fy0123456789n1", "br0", false)));
    var plan = MemoryPlan.plan(spec.memoryBytes(), Accelerator.KVM, QEMU.version());

    List<String> args = QemuCommandLine.build(QEMU, spec, RUN, LaunchOptions.running(Accelerator.KVM, plan), true);

    assertThat(args)
        .containsSequence("-netdev", "tap,id=net0,ifname=fy0123456789n0,script=no,downscript=no,vnet_hdr=on,vhost=on")
        .containsSequence("-device", "virtio-net-pci,netdev=net0,mac=52:54:00:0a:0b:0c,id=net0-dev")
        // COLO's filters need plain frames, and vhost-net needs virtio-net headers
        .containsSequence("-netdev", "tap,id=net1,ifname=fy0123456789n1,script=no,downscript=no,vnet_hdr=off,vhost=off")
        .containsSequence("-device", "virtio-net-pci,netdev=net1,mac=52:54:00:0a:0b:0d,id=net1-dev");
  }

  @Test
  void build_nics_withoutVhost_everyNicVhostOff() {
    var spec = new VmSpec("web", 1, 512L << 20, "pc-q35-7.2", "qemu64", List.of(),
        new BootSource.Kernel("/k", null, ""), List.of(new NicSpec("52:54:00:0a:0b:0c", "fy0123456789n0", "br0", true)));
    var plan = MemoryPlan.plan(spec.memoryBytes(), Accelerator.TCG, QEMU.version());

    List<String> args = QemuCommandLine.build(QEMU, spec, RUN, LaunchOptions.running(Accelerator.TCG, plan), false);

    assertThat(args)
        .containsSequence("-netdev", "tap,id=net0,ifname=fy0123456789n0,script=no,downscript=no,vnet_hdr=on,vhost=off")
        .containsSequence("-device", "virtio-net-pci,netdev=net0,mac=52:54:00:0a:0b:0c,id=net0-dev");
  }

  @Test
  void vhost_underTcg_isOffWhateverTheHostHas() {
    var plan = MemoryPlan.plan(SPEC.memoryBytes(), Accelerator.TCG, QEMU.version());

    // vhost-net needs KVM's ioeventfds: without KVM it is never asked for, /dev/vhost-net or not
    assertThat(QemuProcess.vhost(LaunchOptions.running(Accelerator.TCG, plan), QemuUser.current())).isFalse();
  }

  @Test
  void nicSpec_multicastMacOrLongTap_isRefused() {
    assertThatThrownBy(() -> new NicSpec("01:00:5e:00:00:01", "fy0123456789n0", "br0", true)).hasMessageContaining("mac");
    assertThatThrownBy(() -> new NicSpec("52:54:00:0a:0b:0c", "a-tap-name-too-long", "br0", true)).hasMessageContaining("15");
  }

  @Test
  void resolveMachineType_alias_givesTheVersionedType() {
    assertThat(QEMU.resolveMachineType("q35")).isEqualTo("pc-q35-7.2");
    assertThat(QEMU.resolveMachineType("pc-q35-7.1")).isEqualTo("pc-q35-7.1");
  }

  @Test
  void resolveMachineType_unknown_namesItAndTheQemuVersion() {
    assertThatThrownBy(() -> QEMU.resolveMachineType("pc-q35-99.0")).hasMessageContaining("pc-q35-99.0").hasMessageContaining("7.2.19");
  }

  @Test
  void runDir_tooLongForASocket_isRefusedWithAHint() {
    String longPath = "/tmp/" + "x".repeat(120);

    assertThatThrownBy(() -> new RunDir(Path.of(longPath))).hasMessageContaining("too long for a UNIX socket");
  }

  @Test
  void vmSpec_badName_namesFieldValueAndRule() {
    assertThatThrownBy(() -> new VmSpec("Web_1", 1, 64L << 20, "pc-q35-7.2", "qemu64", List.of(),
        new BootSource.Kernel("/k", null, ""), null))
        .hasMessageContaining("vm name 'Web_1'").hasMessageContaining("lower-case");
  }
}
