package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.net.Taps;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.machine.Quit;
import dev.ferry.qmp.machine.SystemPowerdown;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running QEMU process and its QMP connection.
 *
 * <p>QEMU is started in a session of its own and is never tied to the JVM that started it: an
 * agent that dies leaves its guests running, and the next agent re-adopts them from the pid file
 * and the QMP socket in the run directory. Closing this object only drops the QMP connection.
 */
public final class QemuProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QemuProcess.class);
  static final Path VHOST_NET = Path.of("/dev/vhost-net");
  private static final Duration QUIT_GRACE = Duration.ofSeconds(5);
  private static final Duration PRESS_AGAIN = Duration.ofSeconds(2);

  private final String vmName;
  private final RunDir run;
  private final ProcessHandle handle;
  /** the process as started here, whose exit status this JVM learns; null for an adopted QEMU */
  private final Process child;
  /** where this QEMU's own lines begin in qemu.log, which every run of the VM appends to */
  private final long logFrom;
  private final QmpClient qmp;

  private QemuProcess(String vmName, RunDir run, ProcessHandle handle, Process child, long logFrom, QmpClient qmp) {
    this.vmName = vmName;
    this.run = run;
    this.handle = handle;
    this.child = child;
    this.logFrom = logFrom;
    this.qmp = qmp;
  }

  /** Starts QEMU as the agent's own user; see {@link #start(QemuInstallation, VmSpec, RunDir, LaunchOptions, Duration, QemuUser)}. */
  /** vhost-net needs KVM's ioeventfds, and the device must be usable by the QEMU user. */
  static boolean vhost(LaunchOptions options, QemuUser user) {
    return options.accelerator() == Accelerator.KVM && Files.exists(VHOST_NET) && user.cannotReadWrite(VHOST_NET) == null;
  }

  public static QemuProcess start(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, Duration timeout) {
    return start(qemu, spec, run, options, timeout, QemuUser.current());
  }

  /**
   * Starts QEMU detached, as {@code user}, and returns once its QMP monitor answers. The run
   * directory and every file of the spec are handed over to {@code user} first: it opens them
   * with its own rights.
   */
  public static QemuProcess start(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, Duration timeout,
      QemuUser user) {
    return start(qemu, spec, run, options, timeout, user, DiskLayout.PLAIN);
  }

  /**
   * As {@link #start(QemuInstallation, VmSpec, RunDir, LaunchOptions, Duration, QemuUser)}, the
   * disks' block nodes laid out by {@code layout} (a COLO pair's quorum or replication chain);
   * files a layout adds beyond the spec's disks (overlays) must be handed over by the caller.
   */
  public static QemuProcess start(QemuInstallation qemu, VmSpec spec, RunDir run, LaunchOptions options, Duration timeout,
      QemuUser user, DiskLayout layout) {
    List<String> qemuArgs = QemuCommandLine.build(qemu, spec, run, options, vhost(options, user), layout);
    try {
      Files.createDirectories(run.dir());
      Files.deleteIfExists(run.qmpSocket());
      Files.deleteIfExists(run.pidFile());
      user.handOverRunDir(run);
      QemuUser.makePrivate(run.cmdline());
      Files.writeString(run.cmdline(), String.join("\n", qemuArgs) + "\n");
      QemuUser.makePrivate(run.qemuLog());
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot prepare run directory " + run.dir() + ": " + e.getMessage(), e);
    }
    for (DiskSpec d : spec.disks()) user.handOver(Path.of(d.path()));
    if (spec.boot() instanceof BootSource.Kernel k) {
      user.handOver(Path.of(k.kernel()));
      if (k.initrd() != null) user.handOver(Path.of(k.initrd()));
    }
    Taps.up(spec.name(), spec.nics(), user, !options.tapsOffBridge());
    var cmd = new ArrayList<String>();
    cmd.add("setsid"); // its own session: a signal to the agent's process group never reaches the guest
    cmd.addAll(user.wrap(qemuArgs));
    long logFrom = QemuExit.logSize(run.qemuLog());
    Process process;
    try {
      process = new ProcessBuilder(cmd)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(ProcessBuilder.Redirect.appendTo(run.qemuLog().toFile()))
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot start qemu for vm " + spec.name() + ": " + e.getMessage(), e);
    }
    log.info("vm {}: started qemu pid {} ({}, memory {})", spec.name(), process.pid(),
        options.accelerator(), options.memory().qemuArgument());
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      if (!process.isAlive()) {
        throw new AgentException(Kind.UNAVAILABLE, "qemu for vm " + spec.name() + " exited with status "
            + process.exitValue() + " during start: " + tail(run.qemuLog()));
      }
      if (Files.exists(run.qmpSocket())) {
        try {
          QmpClient qmp = QmpClient.connect(run.qmpSocket(), remaining(deadline));
          return new QemuProcess(spec.name(), run, process.toHandle(), process, logFrom, qmp);
        } catch (QmpException e) {
          if (Instant.now().isAfter(deadline)) {
            process.destroyForcibly();
            throw new AgentException(Kind.UNAVAILABLE, "qemu for vm " + spec.name() + " did not answer on "
                + run.qmpSocket() + " within " + timeout + ": " + e.getMessage(), e);
          }
        }
      }
      if (Instant.now().isAfter(deadline)) {
        process.destroyForcibly();
        throw new AgentException(Kind.UNAVAILABLE, "qemu for vm " + spec.name() + " created no qmp socket within "
            + timeout + ": " + tail(run.qemuLog()));
      }
      pause(Duration.ofMillis(20));
    }
  }

  /**
   * Re-attaches to a QEMU that an earlier agent started. Empty when no such process runs any
   * more; the pid is checked against the process's command line, so a reused pid is not taken
   * for the guest.
   */
  public static Optional<QemuProcess> adopt(String vmName, RunDir run, Duration timeout) {
    Optional<ProcessHandle> handle = livePid(run);
    if (handle.isEmpty()) return Optional.empty();
    QmpClient qmp = QmpClient.connect(run.qmpSocket(), timeout);
    log.info("vm {}: adopted qemu pid {}", vmName, handle.get().pid());
    return Optional.of(new QemuProcess(vmName, run, handle.get(), null, QemuExit.logSize(run.qemuLog()), qmp));
  }

  /** The live QEMU process of this run directory, if any. */
  public static Optional<ProcessHandle> livePid(RunDir run) {
    long pid;
    try {
      pid = Long.parseLong(Files.readString(run.pidFile()).strip());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (handle.isEmpty()) return Optional.empty();
    try {
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
      if (!cmdline.contains(run.qmpSocket().toString())) return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
    return handle;
  }

  public String vmName() {
    return vmName;
  }

  public long pid() {
    return handle.pid();
  }

  public RunDir runDir() {
    return run;
  }

  public QmpClient qmp() {
    return qmp;
  }

  public boolean isAlive() {
    return handle.isAlive();
  }

  /** How this QEMU ended, once it has: see {@link QemuExit}. */
  public String exitDescription() {
    return QemuExit.describe(pid(), child, run.qemuLog(), logFrom);
  }

  /**
   * Stops the guest: the ACPI power button first, {@code quit} when the guest ignores it until
   * {@code graceful} has passed, SIGKILL when QEMU does not answer either.
   */
  public StopOutcome stop(Duration graceful) {
    if (!isAlive()) {
      cleanUp();
      return StopOutcome.ALREADY_STOPPED;
    }
    StopOutcome outcome;
    if (pressPowerButton(graceful)) {
      outcome = StopOutcome.POWERED_OFF;
    } else if (tryCall(() -> qmp.call(new Quit(), QUIT_GRACE)) && awaitExit(QUIT_GRACE)) {
      outcome = StopOutcome.QUIT;
    } else {
      kill();
      outcome = StopOutcome.KILLED;
    }
    log.info("vm {}: qemu pid {} stopped ({})", vmName, pid(), outcome);
    cleanUp();
    return outcome;
  }

  /**
   * Presses the power button until the guest powers off or {@code graceful} has passed; never
   * quits or kills. True when QEMU is gone (its runtime files cleaned up), false when it still
   * runs. Gone is not powered off: whether the guest's own {@code SHUTDOWN} came first is the
   * caller's to check (a QEMU killed meanwhile is gone too).
   */
  public boolean powerDown(Duration graceful) {
    if (isAlive() && !pressPowerButton(graceful)) return false;
    log.info("vm {}: qemu pid {} gone after the power button", vmName, pid());
    cleanUp();
    return true;
  }

  /**
   * Presses the ACPI power button, again every {@link #PRESS_AGAIN} until {@code graceful} has
   * passed: a guest still booting has no handler yet and drops the first press (seen with the
   * test guest when a stop came right after its workloads started).
   */
  private boolean pressPowerButton(Duration graceful) {
    Instant deadline = Instant.now().plus(graceful);
    while (true) {
      if (!tryCall(() -> qmp.call(new SystemPowerdown()))) return awaitExit(remaining(deadline));
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) return !isAlive();
      if (awaitExit(left.compareTo(PRESS_AGAIN) < 0 ? left : PRESS_AGAIN)) return true;
    }
  }

  /** SIGKILL, then waits for the process to be gone. */
  public void kill() {
    handle.destroyForcibly();
    if (!awaitExit(QUIT_GRACE)) {
      throw new AgentException(Kind.INTERNAL, "qemu pid " + pid() + " of vm " + vmName + " survived SIGKILL for " + QUIT_GRACE);
    }
    cleanUp();
  }

  public boolean awaitExit(Duration timeout) {
    try {
      handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return !handle.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Drops the QMP connection; QEMU keeps running. */
  @Override
  public void close() {
    qmp.close();
  }

  private void cleanUp() {
    qmp.close();
    try {
      Files.deleteIfExists(run.qmpSocket());
      Files.deleteIfExists(run.pidFile());
    } catch (IOException e) {
      log.warn("vm {}: cannot remove runtime files in {}: {}", vmName, run.dir(), e.getMessage());
    }
  }

  private boolean tryCall(Runnable call) {
    try {
      call.run();
      return true;
    } catch (QmpException e) {
      log.info("vm {}: {}", vmName, e.getMessage());
      return false;
    }
  }

  static String tail(Path file) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size())).strip();
    } catch (IOException e) {
      return "(no qemu log at " + file + ")";
    }
  }

  private static Duration remaining(Instant deadline) {
    Duration d = Duration.between(Instant.now(), deadline);
    return d.isNegative() || d.isZero() ? Duration.ofMillis(100) : d;
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted while starting qemu", e);
    }
  }
}
