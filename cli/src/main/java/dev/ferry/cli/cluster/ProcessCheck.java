package dev.ferry.cli.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Whether a recorded pid is still the process we started. A pid alone is not enough, pids get
 * reused: the process must be alive and its {@code /proc/PID/cmdline} must carry
 * {@code --data DIR} with the component's own data directory.
 */
final class ProcessCheck {

  private ProcessCheck() {}

  static Optional<ProcessHandle> ours(Long pid, String dataDir) {
    if (pid == null || pid <= 0) return Optional.empty();
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(p -> hasData(cmdline(pid), dataDir));
  }

  static boolean alive(Long pid, String dataDir) {
    return ours(pid, dataDir).isPresent();
  }

  /**
   * For a process this command has just started: alive and, unless its arguments cannot be read
   * yet, ours. {@code setsid} execs java after {@link Launcher#start} returned, and while a process
   * is inside exec its {@code /proc/PID/cmdline} reads empty; {@link #alive} then said "exited during
   * start" of a controller that was only starting (seen once in CI, with an empty log). Seconds after
   * we started it, the pid cannot have been reused.
   */
  static boolean starting(Long pid, String dataDir) {
    if (pid == null || pid <= 0) return false;
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent() && startingArgs(cmdline(pid), dataDir);
  }

  static boolean startingArgs(List<String> args, String dataDir) {
    return args.isEmpty() || hasData(args, dataDir);
  }

  /**
   * What is at {@code pid} now, for an error that says a component is gone: "pid N is gone", or
   * the start of the command line found there (a recorded pid another program now has, or one
   * caught between fork and exec).
   */
  static String seen(Long pid) {
    if (pid == null || pid <= 0) return "no pid recorded";
    if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) return "pid " + pid + " is gone";
    String args = String.join(" ", cmdline(pid));
    return "pid " + pid + " runs '" + (args.length() > 200 ? args.substring(0, 200) + "..." : args) + "'";
  }

  /** The arguments of a live process, empty when it is gone or not readable. */
  static List<String> cmdline(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      if (raw.length == 0) return List.of();
      return Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
    } catch (IOException e) {
      return List.of();
    }
  }

  /** {@code --data DIR} or {@code --data=DIR} with exactly this directory. */
  static boolean hasData(List<String> args, String dataDir) {
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--data") && i + 1 < args.size() && args.get(i + 1).equals(dataDir)) return true;
      if (a.equals("--data=" + dataDir)) return true;
    }
    return false;
  }

  /**
   * SIGTERM, then SIGKILL after {@code grace}. Returns how it ended, for the user.
   */
  static String stop(ProcessHandle p, Duration grace) {
    p.destroy();
    if (waitExit(p, grace)) return "stopped";
    p.destroyForcibly();
    return waitExit(p, Duration.ofSeconds(5)) ? "killed after " + grace.toSeconds() + "s" : "still running after SIGKILL";
  }

  // polled, not onExit(): for a process that is not our child the JDK polls with a growing
  // back-off, which made `cluster down` take seconds longer than the processes needed
  private static boolean waitExit(ProcessHandle p, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (p.isAlive()) {
      if (System.nanoTime() - deadline > 0) return false;
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return !p.isAlive();
      }
    }
    return true;
  }
}
