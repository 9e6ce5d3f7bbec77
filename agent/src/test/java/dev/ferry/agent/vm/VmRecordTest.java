package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.BootSource;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.VmState;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmRecordTest {

  @TempDir Path tmp;

  @Test
  void vmJson_writeThenRead_keepsSpecPlanAndState() {
    var spec = new VmSpec("web", 2, 128L << 20, "pc-q35-7.2", "qemu64",
        List.of(new DiskSpec("disk0", "/pool/web-disk0.qcow2", DiskFormat.QCOW2)),
        new BootSource.Kernel("/pool/vmlinuz", "/pool/initrd.img", "console=ttyS0"), null);
    var def = new AgentVmDefinition("web", 2, 128L << 20, "q35", null, "/pool/vmlinuz", "/pool/initrd.img",
        "console=ttyS0", List.of(new AgentDisk("disk0", "/pool/web-disk0.qcow2", "qcow2")));
    MemoryPlan plan = MemoryPlan.plan(128L << 20, Accelerator.TCG, new QemuVersion(7, 2, 0));
    var record = new VmRecord(def, spec, null, null, VmState.STOPPED).withLaunch(plan, Accelerator.TCG)
        .withState(VmState.RUNNING);

    JsonFiles.write(tmp.resolve("vm.json"), record);
    VmRecord read = JsonFiles.read(tmp.resolve("vm.json"), VmRecord.class);

    assertThat(read).isEqualTo(record);
    assertThat(read.memory().toPlan()).isEqualTo(plan);
    assertThat(read.memory().givenBytes()).isEqualTo((128L << 20) - 8192);
  }
}
