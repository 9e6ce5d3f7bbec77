package dev.ferry.agent.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How an exited QEMU ended, in words for a log or an error: its exit status or the signal that
 * killed it, and QEMU's own line naming a signal it terminated on. The status is known only for a
 * QEMU this agent started (its child); a SIGTERM'd QEMU exits with status 0, so the log line is
 * what tells that exit from a clean one.
 */
final class QemuExit {

  private static final String TERMINATING = "terminating on signal";

  private QemuExit() {}

  /** {@code logFrom}: the size of qemu.log when this QEMU began (the log is appended to by every run). */
  static String describe(long pid, Process child, Path qemuLog, long logFrom) {
    StringBuilder b = new StringBuilder("qemu pid ").append(pid);
    Integer status = status(child);
    if (status == null) b.append(" exited (its exit status went to the agent that started it)");
    // Java reports a death by signal N as 128 + N
    else if (status > 128) b.append(" was killed by signal ").append(status - 128).append(signalName(status - 128));
    else b.append(" exited with status ").append(status);
    String said = terminatingLine(qemuLog, logFrom);
    if (said != null) b.append(" (qemu.log: ").append(said).append(')');
    return b.toString();
  }

  private static Integer status(Process child) {
    if (child == null) return null;
    try {
      // the reaper thread records the status a moment after the process is seen gone
      return child.waitFor(2, TimeUnit.SECONDS) ? child.exitValue() : null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 6 -> " (SIGABRT)";
      case 9 -> " (SIGKILL)";
      case 11 -> " (SIGSEGV)";
      case 15 -> " (SIGTERM)";
      default -> "";
    };
  }

  /** Size of {@code qemuLog} now, 0 when there is none. */
  static long logSize(Path qemuLog) {
    try {
      return Files.exists(qemuLog) ? Files.size(qemuLog) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private static String terminatingLine(Path qemuLog, long from) {
    try {
      byte[] all = Files.readAllBytes(qemuLog);
      // a rotated log is shorter than it was: then all of it is this QEMU's
      int start = from <= all.length ? (int) from : 0;
      List<String> lines = new String(all, start, all.length - start, StandardCharsets.UTF_8).lines().toList();
      for (int i = lines.size() - 1; i >= 0; i--) {
        if (lines.get(i).contains(TERMINATING)) return lines.get(i).strip();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }
}
