package dev.ferry.agent.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression (issue 9 B6): a live QEMU whose QMP did not answer when the agent started was marked
 * crashed, so a start launched a second QEMU on the same disks and a delete could remove them
 * under the running guest. The stand-in QEMU is a {@code tail -F} whose command line names the VM's
 * QMP socket (what adoption checks in /proc), with no socket behind it.
 */
class UnreachableQemuTest {

  @TempDir Path tmp;
  Process standIn;

  @AfterEach
  void killStandIn() {
    if (standIn != null) standIn.destroyForcibly();
  }

  @Test
  void load_liveQemuWithoutQmp_isUnknownRefusesStartAndDeleteAndKillEndsIt() throws Exception {
    var qemu = new QemuInstallation(Path.of("/bin/false"), Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 0),
        List.of("q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)",
            "pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)"));
    var host = new QemuHost(qemu, Accelerator.TCG);
    Pools pools = Pools.load(tmp, "h1");
    pools.define("a", tmp.resolve("a").toString(), false);
    Path disk = Files.writeString(tmp.resolve("a/web-disk0.raw"), "disk");
    Files.writeString(tmp.resolve("a/vmlinuz"), "kernel");
    Vms first = Vms.load(tmp, "h1", pools, host);
    first.define("web", new AgentVmDefinition("web", 1, 64L << 20, "q35", null, tmp.resolve("a/vmlinuz").toString(), null,
        "", List.of(new AgentDisk("disk0", disk.toString(), "raw"))));
    first.detachAll();
    Path run = Files.createDirectories(tmp.resolve("vms/web/run"));
    standIn = new ProcessBuilder("tail", "-F", run.resolve("qmp.sock").toString()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    Files.writeString(run.resolve("qemu.pid"), Long.toString(standIn.pid()));

    Vms vms = Vms.load(tmp, "h1", pools, host);
    try {
      assertThat(vms.status("web").state()).isEqualTo(VmState.UNKNOWN);
      assertThat(vms.status("web").pid()).isEqualTo(standIn.pid());
      assertThatThrownBy(() -> vms.start("web")).isInstanceOf(AgentException.class)
          .hasMessageContaining("pid " + standIn.pid()).hasMessageContaining("does not answer on qmp");
      assertThatThrownBy(() -> vms.delete("web", true)).isInstanceOf(AgentException.class)
          .hasMessageContaining("does not answer on qmp");
      assertThat(disk).exists();
      assertThat(vms.inUse(disk)).isTrue();
      assertThat(standIn.isAlive()).as("nothing was started or stopped").isTrue();

      long t0 = System.nanoTime();
      assertThat(vms.kill("web").state()).isEqualTo(VmState.STOPPED);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(6));
      assertThat(standIn.isAlive()).isFalse();
      vms.delete("web", false);
      assertThat(vms.exists("web")).isFalse();
    } finally {
      vms.detachAll();
    }
  }
}
