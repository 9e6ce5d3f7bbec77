package dev.ferry.agent.ft;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.qmp.colo.QueryColoStatus;
import dev.ferry.qmp.colo.XColoLostHeartbeat;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.migration.Migrate;
import dev.ferry.qmp.migration.MigrateIncoming;
import dev.ferry.qmp.migration.MigrateSetCapabilities;
import dev.ferry.qmp.migration.MigrateSetParameters;
import dev.ferry.qmp.migration.QueryMigrate;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The COLO self-test: a primary and a secondary of {@code binary} on loopback, a diskless,
 * NIC-less guest (the firmware idles, which under TCG still runs the dirty-sync path that
 * deadlocks stock 7.2), COLO with a short checkpoint interval until {@link #CHECKPOINTS}
 * checkpoints completed with the primary still answering QMP, then a failover on the primary
 * ({@code x-colo-lost-heartbeat}, mode back to {@code none}).
 *
 * <p>Checkpoints are counted from the primary's {@code RESUME} events: each checkpoint stops the
 * VM and resumes it, and {@code query-migrate} says only {@code colo} (colo.md). A primary that
 * stops answering {@code query-status} while COLO runs is the deadlock of stock QEMU 7.2 under
 * TCG; it ignores SIGTERM, so every QEMU here ends by SIGKILL.
 *
 * <p>RAM is 65528 KiB: not a multiple of 256 KiB, whose TCG dirty-tracking bug also breaks COLO.
 */
final class QemuColoSelfTest implements ColoSelfTest {

  private static final Logger log = LoggerFactory.getLogger(QemuColoSelfTest.class);
  static final int CHECKPOINTS = 3;
  private static final int CHECKPOINT_DELAY_MS = 200;
  /**
   * i440fx, not the q35 of Ferry's VMs: with q35 and this firmware-only guest the secondary of
   * Ferry's build (and of Debian's, had its primary not deadlocked first) aborts at its first
   * checkpoint load ({@code memory_region_add_subregion_common: !subregion->container}), which
   * colo.md's runs with a booted Linux guest did not meet. The checkpoint path and the failover
   * this probe judges are the machine's; whether q35 holds up under COLO is the pair's question.
   */
  static final String MACHINE = "pc";
  /** a patched primary blocks QMP for the RAM send of a checkpoint (~50 ms here): far below this */
  private static final Duration QMP_ANSWER = Duration.ofSeconds(3);

  private final Accelerator accel;
  private final QemuUser user;

  QemuColoSelfTest(Accelerator accel, QemuUser user) {
    this.accel = accel;
    this.user = user;
  }

  @Override
  public ColoOutcome run(Path binary, Duration budget) throws InterruptedException {
    long deadline = System.nanoTime() + budget.toNanos();
    // a root agent's build lands in /root/.cache (0700): say so rather than QEMU's bare exit 126
    String unreachable = user.unreachable(binary.getParent());
    if (unreachable != null) {
      return ColoOutcome.inconclusive("cannot run " + binary + ": " + unreachable + " (or pass --ft-qemu)");
    }
    Path dir;
    int port;
    try {
      dir = Files.createTempDirectory("ferry-ft-probe");
      user.handOverDir(dir);
      port = freeLoopbackPort();
    } catch (IOException | AgentException e) {
      return ColoOutcome.inconclusive("cannot prepare the COLO self-test: " + e.getMessage());
    }
    List<Process> started = new ArrayList<>();
    try {
      Process secondary = start(binary, dir, "secondary", List.of("-incoming", "defer"), started);
      Process primary = start(binary, dir, "primary", List.of(), started);
      try (QmpClient sq = connect(dir, "secondary", secondary, deadline);
          QmpClient pq = connect(dir, "primary", primary, deadline)) {
        sq.call(new MigrateSetCapabilities(Map.of("x-colo", true)), QMP_ANSWER);
        sq.call(new MigrateIncoming("tcp:127.0.0.1:" + port), QMP_ANSWER);
        var resumes = new AtomicInteger();
        try (var ignored = pq.subscribe("RESUME", e -> resumes.incrementAndGet())) {
          pq.call(new MigrateSetCapabilities(Map.of("x-colo", true)), QMP_ANSWER);
          pq.call(new MigrateSetParameters(Map.of("x-checkpoint-delay", CHECKPOINT_DELAY_MS)), QMP_ANSWER);
          pq.call(new Migrate("tcp:127.0.0.1:" + port), QMP_ANSWER);
          return watch(pq, secondary, dir, resumes, deadline);
        }
      }
    } catch (QmpTimeoutException e) {
      return ColoOutcome.failed("qemu stopped answering QMP while COLO was being set up: " + e.getMessage(), 0);
    } catch (QmpException e) {
      return ColoOutcome.failed("COLO setup refused: " + e.getMessage() + logs(dir), 0);
    } catch (IOException e) {
      return ColoOutcome.inconclusive("cannot run " + binary + ": " + e.getMessage());
    } finally {
      for (Process p : started) {
        p.destroyForcibly();
      }
      // also when interrupted by the hard timeout: SIGKILL was sent, reap before the next probe
      for (Process p : started) {
        p.onExit().join();
      }
      removeQuietly(dir);
    }
  }

  /** Polls the primary until enough checkpoints, a failure, or the deadline; then fails over. */
  private ColoOutcome watch(QmpClient pq, Process secondary, Path dir, AtomicInteger resumes, long deadline)
      throws QmpException, InterruptedException {
    boolean colo = false;
    while (System.nanoTime() < deadline) {
      // the first RESUME is COLO's start; each one after it closes a checkpoint
      int checkpoints = Math.max(0, resumes.get() - 1);
      try {
        pq.call(new QueryStatus(), QMP_ANSWER);
        QueryMigrate.MigrationInfo m = pq.call(new QueryMigrate(), QMP_ANSWER);
        if (m.status().equals("colo")) colo = true;
        if (m.status().equals("failed") || m.status().equals("cancelled")) {
          return ColoOutcome.failed("COLO migration " + m.status() + m.errorDesc().map(d -> ": " + d).orElse("")
              + logs(dir), checkpoints);
        }
      } catch (QmpTimeoutException e) {
        return ColoOutcome.failed("the COLO primary stopped answering QMP (no reply within " + QMP_ANSWER.toMillis()
            + " ms) after " + checkpoints + " checkpoint(s): the checkpoint deadlock of QEMU 7.2 under TCG"
            + " (qemu_savevm_live_state without the BQL; Ferry's build-qemu.sh carries the fix)", checkpoints);
      }
      if (!secondary.isAlive()) {
        return ColoOutcome.failed("the COLO secondary exited (" + secondary.exitValue() + ")" + logs(dir), checkpoints);
      }
      if (colo && checkpoints >= CHECKPOINTS) return failover(pq, checkpoints, deadline);
      Thread.sleep(50);
    }
    int checkpoints = Math.max(0, resumes.get() - 1);
    return ColoOutcome.failed(colo
        ? "COLO ran but only " + checkpoints + " of " + CHECKPOINTS + " checkpoints completed in time"
        : "the migration never reached COLO state" + logs(dir), checkpoints);
  }

  /** The primary takes over alone, as when its secondary dies: COLO must end in mode none. */
  private ColoOutcome failover(QmpClient pq, int checkpoints, long deadline) throws QmpException, InterruptedException {
    try {
      pq.call(new XColoLostHeartbeat(), QMP_ANSWER);
      while (System.nanoTime() < deadline) {
        QueryColoStatus.ColoStatus s = pq.call(new QueryColoStatus(), QMP_ANSWER);
        if (s.mode().equals(QueryColoStatus.ColoStatus.NONE)) {
          return ColoOutcome.passed(checkpoints + " COLO checkpoints at " + CHECKPOINT_DELAY_MS
              + " ms, then a failover on the primary (x-colo-lost-heartbeat)", checkpoints);
        }
        Thread.sleep(20);
      }
      return ColoOutcome.failed("the primary's failover (x-colo-lost-heartbeat) did not end COLO in time", checkpoints);
    } catch (QmpTimeoutException e) {
      return ColoOutcome.failed("the primary stopped answering QMP during the failover after " + checkpoints
          + " checkpoints: " + e.getMessage(), checkpoints);
    }
  }

  private Process start(Path binary, Path dir, String role, List<String> extra, List<Process> started) throws IOException {
    var cmd = new ArrayList<>(List.of(binary.toString(), "-accel", accel.qemuName(), "-nodefaults", "-no-user-config",
        "-display", "none", "-machine", MACHINE, "-m", "65528k",
        "-qmp", "unix:" + dir.resolve(role + ".qmp") + ",server=on,wait=off"));
    if (accel == Accelerator.KVM) cmd.addAll(List.of("-cpu", "host"));
    cmd.addAll(extra);
    Process p = new ProcessBuilder(user.wrap(cmd)).redirectErrorStream(true)
        .redirectOutput(dir.resolve(role + ".log").toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    started.add(p);
    return p;
  }

  private static QmpClient connect(Path dir, String role, Process p, long deadline)
      throws QmpException, IOException, InterruptedException {
    Path socket = dir.resolve(role + ".qmp");
    while (!Files.exists(socket)) {
      if (!p.isAlive()) throw new IOException("the " + role + " qemu exited (" + p.exitValue() + ")" + logs(dir));
      if (System.nanoTime() > deadline) throw new IOException("the " + role + " qemu made no QMP socket in time");
      Thread.sleep(20);
    }
    return QmpClient.connect(socket, QMP_ANSWER);
  }

  /** Both QEMUs' output, abbreviated, for a reason that says what QEMU said. */
  private static String logs(Path dir) {
    var sb = new StringBuilder();
    for (String role : List.of("primary", "secondary")) {
      try {
        String text = Files.readString(dir.resolve(role + ".log")).strip();
        if (!text.isEmpty()) {
          sb.append("; ").append(role).append(" said: ")
              .append(text.length() > 300 ? "..." + text.substring(text.length() - 300) : text);
        }
      } catch (IOException e) {
        // no log yet: nothing to add
      }
    }
    return sb.toString();
  }

  private static int freeLoopbackPort() throws IOException {
    try (var s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void removeQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) Files.deleteIfExists(f);
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      log.debug("cannot remove {}: {}", dir, e.getMessage());
    }
  }
}
