package dev.ferry.agent.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.qmp.QmpConnectionException;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import dev.ferry.testsupport.qmp.QueryMemorySizeSummary;
import dev.ferry.testsupport.qmp.Stop;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The QEMU launcher against real QEMU and the self-checking test guest. */
class QemuProcessIT {

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perTest();

  private static final Duration BOOT = Duration.ofSeconds(90);
  /** the Debian cloud kernel does not boot in 64 MiB; 256 MiB is also on the TCG bug alignment */
  private static final long GUEST_MEMORY = 256L << 20;
  private static QemuInstallation qemu;
  private static Accelerator accel;

  @TempDir Path tmp;

  @BeforeAll
  static void detect() {
    qemu = QemuInstallation.detect();
    accel = new AcceleratorProbe(qemu).choose(AccelMode.AUTO).accelerator();
  }

  @Test
  void start_testGuestWithEveryWorkload_eachWorkloadReportsClean() throws Exception {
    Path disk = createDisk("disk0.qcow2", "32M");
    QemuProcess vm = start("all", GUEST_MEMORY, "ferry.mem=16:8 ferry.disk=2:8", List.of(
        new DiskSpec("disk0", disk.toString(), DiskFormat.QCOW2)));
    GuestConsole console = new GuestConsole(vm.runDir().console());

    var ready = console.await(GuestLine.Ready.class, BOOT);
    assertThat(ready.workloads()).contains("mem", "disk");
    console.await(GuestLine.MemStatus.class, m -> m.gen() >= 2, BOOT);
    console.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1 && d.block() > 0, BOOT);
    console.awaitHeartbeatAfter(3, BOOT);

    assertThat(console.lines(GuestLine.MemStatus.class)).allSatisfy(m -> assertThat(m.errors()).isZero());
    assertThat(console.lines(GuestLine.DiskStatus.class)).allSatisfy(d -> assertThat(d.errors()).isZero());
    assertThat(console.lines(GuestLine.MemError.class)).isEmpty();
    assertThat(console.lines(GuestLine.DiskError.class)).isEmpty();
    assertThat(console.lines(GuestLine.Heartbeat.class)).extracting(GuestLine.Heartbeat::boot).containsOnly(ready.boot());
  }

  @Test
  void stopAndCont_overQmp_pauseAndResumeTheHeartbeat() throws Exception {
    QemuProcess vm = start("pause", GUEST_MEMORY, "", List.of());
    GuestConsole console = new GuestConsole(vm.runDir().console());
    console.awaitHeartbeatAfter(2, BOOT);

    vm.qmp().call(new Stop());
    assertThat(vm.qmp().call(new QueryStatus()).running()).isFalse();
    long seqWhilePaused = console.lastHeartbeat().orElseThrow().seq();
    Thread.sleep(3000);
    assertThat(console.lastHeartbeat().orElseThrow().seq()).as("heartbeat while paused").isLessThanOrEqualTo(seqWhilePaused + 1);

    vm.qmp().call(new Cont());
    assertThat(vm.qmp().call(new QueryStatus()).running()).isTrue();
    var after = console.awaitHeartbeatAfter(seqWhilePaused + 2, Duration.ofSeconds(20));
    assertThat(after.boot()).isEqualTo(console.lines(GuestLine.Ready.class).getFirst().boot());
  }

  @Test
  void stop_graceful_guestPowersOffWithinTheDeadline() throws Exception {
    QemuProcess vm = start("graceful", GUEST_MEMORY, "", List.of());
    new GuestConsole(vm.runDir().console()).await(GuestLine.Ready.class, BOOT);

    long t0 = System.nanoTime();
    StopOutcome outcome = vm.stop(Duration.ofSeconds(20));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    assertThat(outcome).isEqualTo(StopOutcome.POWERED_OFF);
    assertThat(ms).isLessThan(20_000);
    assertThat(vm.isAlive()).isFalse();
    assertThat(vm.runDir().qmpSocket()).doesNotExist();
  }

  @Test
  void stop_guestIgnoresPowerButton_quitsAfterTheDeadline() throws Exception {
    QemuProcess vm = start("paused", GUEST_MEMORY, "", List.of());
    // a paused guest cannot react to the ACPI button: the stop must not wait forever
    vm.qmp().call(new Stop());

    StopOutcome outcome = vm.stop(Duration.ofSeconds(2));

    assertThat(outcome).isEqualTo(StopOutcome.QUIT);
    assertThat(vm.isAlive()).isFalse();
  }

  @Test
  void qmpCall_qemuKilled_failsPromptlyWithTheSocket() throws Exception {
    QemuProcess vm = start("killed", GUEST_MEMORY, "", List.of());
    ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();
    assertThat(vm.awaitExit(Duration.ofSeconds(10))).isTrue();

    long t0 = System.nanoTime();
    assertThatThrownBy(() -> vm.qmp().call(new QueryStatus()))
        .isInstanceOf(QmpConnectionException.class)
        .hasMessageContaining(vm.runDir().qmpSocket().toString());
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5_000);
  }

  @Test
  void start_memoryOnTheTcgBugAlignment_qemuGetsTheAdjustedSize() throws Exception {
    QemuProcess vm = start("memory", GUEST_MEMORY, "", List.of());
    MemoryPlan plan = MemoryPlan.plan(GUEST_MEMORY, accel, qemu.version());

    long base = vm.qmp().call(new QueryMemorySizeSummary()).baseMemory();

    assertThat(base).isEqualTo(plan.givenBytes());
    if (accel == Accelerator.TCG) assertThat(base).isEqualTo(GUEST_MEMORY - 8192);
  }

  @Test
  void adopt_afterTheLauncherLetGo_reattachesAndTheGuestNeverNotices() throws Exception {
    QemuProcess vm = start("adopt", GUEST_MEMORY, "", List.of());
    GuestConsole console = new GuestConsole(vm.runDir().console());
    var hb = console.awaitHeartbeatAfter(1, BOOT);
    vm.close();

    QemuProcess again = QemuProcess.adopt("adopt", vm.runDir(), Duration.ofSeconds(10)).orElseThrow();

    assertThat(again.pid()).isEqualTo(vm.pid());
    assertThat(again.qmp().call(new QueryStatus()).running()).isTrue();
    var later = console.awaitHeartbeatAfter(hb.seq() + 2, Duration.ofSeconds(20));
    assertThat(later.boot()).isEqualTo(hb.boot());
    again.kill();
    assertThat(QemuProcess.adopt("adopt", vm.runDir(), Duration.ofSeconds(5))).isEmpty();
  }

  private QemuProcess start(String name, long memory, String workloads, List<DiskSpec> disks) {
    TestGuest guest = TestGuest.get();
    VmSpec spec = new VmSpec(name, 1, memory, qemu.resolveMachineType("q35"), "qemu64", disks,
        new BootSource.Kernel(guest.kernel().toString(), guest.initrd().toString(), TestGuest.append(workloads)), null);
    MemoryPlan plan = MemoryPlan.plan(memory, accel, qemu.version());
    QemuProcess vm = QemuProcess.start(qemu, spec, new RunDir(tmp.resolve(name)), LaunchOptions.running(accel, plan), Duration.ofSeconds(30));
    owned.own(vm.pid());
    return vm;
  }

  private Path createDisk(String file, String size) throws Exception {
    Path p = tmp.resolve(file);
    Process proc = new ProcessBuilder(qemu.imgBinary().toString(), "create", "-q", "-f", "qcow2", p.toString(), size)
        .inheritIO().start();
    assertThat(proc.waitFor()).isZero();
    return p;
  }

}
