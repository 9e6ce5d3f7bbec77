package dev.ferry.agent.warm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.VmState;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.WarmShutdownRequest;
import dev.ferry.api.agent.WarmSourceRequest;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import dev.ferry.testsupport.qmp.Stop;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A source QEMU that dies after the power button was pressed, before its guest powered off, is no
 * power-off: the guest's page cache never reached its disks. Before, the agent took that exit for
 * the guest's own (a SIGTERM'd QEMU even reports {@code SHUTDOWN}, reason {@code host-signal},
 * and exits with status 0), so a cold migration copied the disks and a warm one could cut over.
 * The guest is paused right after QEMU starts, so it never handles the button: no boot to wait
 * for, the kill always lands before a power-off. One booted guest powering off is the control.
 */
class PowerOffDeathIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perTest();

  private static final String VM = "web";
  private static final String ID = "4d3c2b1a-0f9e-4d8c-b7a6-958473625140";

  @TempDir Path dir;
  private GuestHost h1;
  private Vms vms;
  private Path disk;

  @BeforeEach
  void startAPausedVm() throws Exception {
    h1 = GuestHost.in(dir, "h1");
    Path pool = h1.pool();
    Path kernel = h1.kernel();
    Path initrd = h1.initrd();
    disk = pool.resolve("web-disk0.raw");
    Files.write(disk, new byte[1 << 20]);
    vms = Vms.load(h1.data(), "h1", h1.pools(), h1.host());
    vms.define(VM, new AgentVmDefinition(VM, 1, 256L << 20, "q35", null, kernel.toString(), initrd.toString(),
        TestGuest.append(""), List.of(new AgentDisk("disk0", disk.toString(), "raw")), List.of()));
    owned.own(vms.start(VM).pid());
  }

  @AfterEach
  void detach() {
    if (vms != null) vms.detachAll();
  }

  @Test
  void warm_qemuKilledDuringThePowerOff_isRefusedNamingPidAndSignal_andTheVmIsCrashed() throws Exception {
    WarmSources sources = sources();
    sources.start(VM, new WarmSourceRequest(ID, "h2"));
    long pid = pause();

    var shutdown = CompletableFuture.supplyAsync(() -> sources.shutdown(VM, new WarmShutdownRequest(ID, 20_000)));
    Thread.sleep(300); // the button pressed; a paused guest never answers it
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();

    assertThatThrownBy(() -> joined(shutdown)).isInstanceOf(AgentException.class)
        .hasMessageContaining("the qemu of vm web died during its guest's power-off, before the guest powered off")
        .hasMessageContaining("qemu pid " + pid + " was killed by signal 9 (SIGKILL)");
    assertThat(awaitState(VmState.CRASHED)).as("crashed, not stopped").isEqualTo(VmState.CRASHED);
    assertThatThrownBy(() -> sources.shutdown(VM, new WarmShutdownRequest(ID, 20_000)))
        .as("asked again, the answer still names the death").isInstanceOf(AgentException.class)
        .hasMessageContaining("qemu pid " + pid + " was killed by signal 9");
    assertThat(disk).as("the disk left as it was").hasSize(1 << 20);
  }

  @Test
  void cold_qemuTerminatedDuringThePowerDown_isRefusedNamingPidAndSignal_andTheVmIsCrashed() throws Exception {
    long pid = pause();

    var powerDown = CompletableFuture.supplyAsync(() -> vms.powerDown(VM, Duration.ofSeconds(20)));
    Thread.sleep(300);
    ProcessHandle.of(pid).orElseThrow().destroy(); // SIGTERM: QEMU says SHUTDOWN (host-signal), exits 0

    assertThatThrownBy(() -> joined(powerDown)).isInstanceOf(AgentException.class)
        .hasMessageContaining("the qemu of vm web died after the power button was pressed, before its guest powered off")
        .hasMessageContaining("qemu pid " + pid + " exited with status 0")
        .hasMessageContaining("terminating on signal 15");
    assertThat(vms.status(VM).state()).as("crashed, not powered off").isEqualTo(VmState.CRASHED);
  }

  /** The control: a guest that powers off itself is powered off, as before. */
  @Test
  void cold_guestPowersOff_isStopped() throws Exception {
    new GuestConsole(vms.runDirOf(VM).console()).await(GuestLine.Ready.class, Duration.ofSeconds(90));

    assertThat(vms.powerDown(VM, Duration.ofSeconds(60)).state()).isEqualTo(VmState.STOPPED);
  }

  private long pause() {
    var p = vms.peek(VM).process().orElseThrow();
    p.qmp().call(new Stop());
    return p.pid();
  }

  private WarmSources sources() throws Exception {
    return h1.warmSources(vms, "h1");
  }

  private VmState awaitState(VmState want) throws Exception {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    VmState now = vms.status(VM).state();
    while (now != want && System.nanoTime() < until) {
      Thread.sleep(20);
      now = vms.status(VM).state();
    }
    return now;
  }

  private static <T> T joined(CompletableFuture<T> f) throws Throwable {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause();
    }
  }
}
