package dev.ferry.agent.ft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.BootSource;
import dev.ferry.agent.qemu.DiskFormat;
import dev.ferry.agent.qemu.DiskLayout;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.agent.qemu.LaunchOptions;
import dev.ferry.agent.qemu.MemoryPlan;
import dev.ferry.agent.qemu.QemuCommandLine;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuProcess;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.agent.qemu.QemuVersion;
import dev.ferry.agent.qemu.RunDir;
import dev.ferry.agent.qemu.VmSpec;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.colo.QueryColoStatus;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.testsupport.GuestConsole;
import dev.ferry.testsupport.GuestLine;
import dev.ferry.testsupport.OwnedProcesses;
import dev.ferry.testsupport.TestGuest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A COLO pair of Ferry's command lines with the self-checking guest, against Ferry's QEMU build
 * (FERRY_FT_QEMU, set by {@code ./ferry test-ft}): the primary boots with its disk under a quorum,
 * the secondary's replica is filled by the sync mirror while the guest runs, COLO starts and
 * checkpoints, then the primary is unprotected (replication child dropped, COLO ended) and the
 * secondary killed; the guest never notices (same boot, memory and disk checks clean). The machine
 * is i440fx: with q35 the secondary aborts at its first checkpoint load (docs/ft.md). Both QEMUs
 * run as the agent would run them: as the QEMU user ({@code ferry-qemu} under root), sandboxed.
 */
class FtPairIT {

  static final Duration BOOT = Duration.ofSeconds(90);
  static final long DISK = 32L << 20;
  static final int CHECKPOINT_MS = 2000;

  @RegisterExtension static OwnedProcesses owned = OwnedProcesses.perClass();
  @TempDir Path dir;

  @Test
  void pair_enableRunDisable_guestRunsOnCleanAndCheckpointsAdvance() throws Exception {
    String built = System.getenv("FERRY_FT_QEMU");
    assumeTrue(built != null && !built.isBlank(), "FERRY_FT_QEMU not set: run ./ferry test-ft to build Ferry's QEMU");
    Path binary = Path.of(built);
    QemuUser user = QemuUser.resolve(null);
    assumeTrue(user.unreachable(binary.getParent()) == null, () -> "the QEMU user cannot run " + binary + ": "
        + user.unreachable(binary.getParent()) + " (./ferry test-ft installs it where it can)");
    // the QEMU user opens the images and run directories by path: let it pass the test's directory
    Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    var qemu = new QemuInstallation(binary, Path.of("/usr/bin/qemu-img"), new QemuVersion(7, 2, 0), List.of());
    Path kernel = Files.copy(TestGuest.get().kernel(), dir.resolve("vmlinuz"));
    Path initrd = Files.copy(TestGuest.get().initrd(), dir.resolve("initrd.img"));
    Path primaryDisk = image("primary.qcow2");
    Path replica = image("replica.qcow2");
    var overlays = Map.of("disk0", new ColoDisks.Overlays(image("hidden.qcow2"), image("active.qcow2")));
    var spec = new VmSpec("ftvm", 1, 128L << 20, "pc-i440fx-7.2", "qemu64",
        List.of(new DiskSpec("disk0", primaryDisk.toString(), DiskFormat.QCOW2)),
        new BootSource.Kernel(kernel.toString(), initrd.toString(), TestGuest.append("ferry.mem=16:4 ferry.disk=1:8")),
        List.of());
    var plan = MemoryPlan.plan(spec.memoryBytes(), Accelerator.TCG, qemu.version());
    RunDir pRun = new RunDir(Files.createDirectories(dir.resolve("primary")));
    RunDir sRun = new RunDir(Files.createDirectories(dir.resolve("secondary")));
    VmSpec secondarySpec = spec.withDisks(List.of(new DiskSpec("disk0", replica.toString(), DiskFormat.QCOW2)));
    int nbdPort = freePort();
    int migrationPort = freePort();

    QemuProcess primary = start(qemu, spec, pRun, LaunchOptions.running(Accelerator.TCG, plan), ColoDisks.PRIMARY, user);
    var console = new GuestConsole(pRun.console());
    console.await(GuestLine.DiskStatus.class, d -> d.gen() >= 1 || d.block() > 0, BOOT);
    var before = console.awaitHeartbeatAfter(1, BOOT);

    overlays.values().forEach(o -> {
      user.handOver(o.hidden());
      user.handOver(o.active());
    });
    QemuProcess secondary = start(qemu, secondarySpec, sRun, new LaunchOptions(Accelerator.TCG, plan, false, true),
        ColoDisks.secondary(overlays), user);
    var checkpoints = new ColoCheckpoints();
    QmpClient sq = secondary.qmp();
    QmpClient pq = primary.qmp();
    try (var stops = pq.subscribe("STOP", e -> checkpoints.stopped(e.timestamp()));
        var resumes = pq.subscribe("RESUME", e -> checkpoints.resumed(e.timestamp()))) {
      long t0 = System.nanoTime();
      ColoPlumbing.listen(sq, secondarySpec.disks(), List.of(), "127.0.0.1", nbdPort, migrationPort);
      ColoPlumbing.sync(pq, spec.disks(), "127.0.0.1", nbdPort, Duration.ofSeconds(60));
      Duration paused = ColoPlumbing.protect(pq, spec.disks(), List.of(), dir, "127.0.0.1", nbdPort, migrationPort, CHECKPOINT_MS,
          Duration.ofSeconds(30));
      long enableMs = Duration.ofNanos(System.nanoTime() - t0).toMillis();

      assertThat(pq.call(new QueryColoStatus()).mode()).isEqualTo("primary");
      // the secondary enters its mode once it loaded the first state, a moment after the primary says colo
      awaitMode(sq, "secondary", Duration.ofSeconds(20));
      long first = awaitCheckpoints(checkpoints, 2, secondary, Duration.ofSeconds(60));
      long later = awaitCheckpoints(checkpoints, first + 3, secondary, Duration.ofSeconds(60));
      ColoCheckpoints.Summary s = checkpoints.summary(Instant.now());
      assertThat(later).isGreaterThan(first);
      assertThat(s.pauseMedianMs()).isNotNull();
      // the guest ran on through the checkpoints
      var during = console.awaitHeartbeatAfter(console.lastHeartbeat().orElseThrow().seq() + 2, Duration.ofSeconds(60));
      assertThat(during.boot()).isEqualTo(before.boot());

      long u0 = System.nanoTime();
      ColoPlumbing.unprotect(pq, spec.disks(), 0, Duration.ofSeconds(10));
      long disableMs = Duration.ofNanos(System.nanoTime() - u0).toMillis();
      secondary.kill();

      assertThat(pq.call(new QueryColoStatus()).mode()).isEqualTo("none");
      assertThat(pq.call(new QueryStatus()).running()).isTrue();
      assertThat(pq.call(new QueryNamedBlockNodes()).stream().map(BlockDeviceInfo::nodeName))
          .doesNotContain(ColoDisks.buddy("disk0"), ColoPlumbing.syncNode(spec.disks().getFirst()));
      var after = console.awaitHeartbeatAfter(console.lastHeartbeat().orElseThrow().seq() + 3, Duration.ofSeconds(60));
      assertThat(after.boot()).as("same boot: the guest never restarted").isEqualTo(before.boot());
      long gen = console.await(GuestLine.DiskStatus.class, d -> true, Duration.ofSeconds(30)).gen();
      console.await(GuestLine.DiskStatus.class, d -> d.gen() > gen, Duration.ofSeconds(60));
      console.assertClean();
      System.out.printf("FT pair: enable %d ms (guest paused %d ms), %d checkpoints at %d ms, pause median %d ms max %d ms,"
          + " disable %d ms%n", enableMs, paused.toMillis(), s.checkpoints(), CHECKPOINT_MS, s.pauseMedianMs(),
          s.pauseMaxMs(), disableMs);
    } finally {
      secondary.kill();
      primary.kill();
    }
  }

  private static void awaitMode(QmpClient q, String mode, Duration timeout) throws Exception {
    long until = System.nanoTime() + timeout.toNanos();
    String now;
    while (!(now = q.call(new QueryColoStatus()).mode()).equals(mode)) {
      if (System.nanoTime() > until) throw new AssertionError("COLO mode still " + now + ", not " + mode + ", after " + timeout);
      Thread.sleep(50);
    }
  }

  private long awaitCheckpoints(ColoCheckpoints c, long atLeast, QemuProcess secondary, Duration timeout)
      throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      long n = c.summary(Instant.now()).checkpoints();
      if (n >= atLeast) return n;
      assertThat(secondary.isAlive()).as("the secondary qemu is alive").isTrue();
      if (System.nanoTime() > until) throw new AssertionError("only " + n + " checkpoints within " + timeout);
      Thread.sleep(200);
    }
  }

  private Path image(String name) throws Exception {
    Path p = dir.resolve(name);
    Process img = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", p.toString(), Long.toString(DISK))
        .redirectErrorStream(true).start();
    assertThat(img.waitFor()).as(new String(img.getInputStream().readAllBytes())).isZero();
    return p;
  }

  private QemuProcess start(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, DiskLayout layout,
      QemuUser user) {
    // the agent's own start: as the QEMU user, with -sandbox (build-qemu.sh enables seccomp)
    QemuProcess p = QemuProcess.start(qemu, spec, run, options, Duration.ofSeconds(30), user, layout);
    owned.own(p.pid());
    return p;
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
