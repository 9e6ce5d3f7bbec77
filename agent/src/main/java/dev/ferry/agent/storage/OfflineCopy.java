package dev.ferry.agent.storage;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Copies a stopped VM's disk with {@code qemu-img convert -p} in the background. The copy runs in
 * a session of its own inside a small {@code sh} that writes qemu-img's output to
 * {@code moves/DISK.convert.log} and its exit status to {@code moves/DISK.convert.rc}, so that an
 * agent restarted mid-copy still learns how it ended; progress is the last {@code (x/100%)} of
 * the log.
 */
final class OfflineCopy {

  private static final Pattern PROGRESS = Pattern.compile("\\((\\d+(?:\\.\\d+)?)/100%\\)");
  // umask 077: the copy of a guest's disk is private from its first byte, whatever the agent's umask
  private static final String SCRIPT = "umask 077; \"$@\" >\"$FERRY_LOG\" 2>&1; echo $? >\"$FERRY_RC.tmp\"; mv \"$FERRY_RC.tmp\" \"$FERRY_RC\"";

  private OfflineCopy() {}

  /** How the background copy stands. */
  sealed interface Observed {
    record Running(double percent) implements Observed {}

    record Done() implements Observed {}

    record Failed(String error) implements Observed {}
  }

  static Path logFile(Path vmDir, String disk) {
    return MoveStore.dir(vmDir).resolve(disk + ".convert.log");
  }

  static Path rcFile(Path vmDir, String disk) {
    return MoveStore.dir(vmDir).resolve(disk + ".convert.rc");
  }

  /** Starts the copy; returns the pid of its shell. */
  static long start(QemuImg img, MoveRecord r, Path vmDir) {
    forget(vmDir, r.disk());
    var cmd = new ArrayList<>(List.of("setsid", "sh", "-c", SCRIPT, "ferry-copy", img.binary().toString(), "convert",
        "-p", "-f", r.sourceFormat(), "-O", r.targetFormat(), r.sourcePath(), r.targetPath()));
    var pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true);
    pb.environment().put("FERRY_LOG", logFile(vmDir, r.disk()).toString());
    pb.environment().put("FERRY_RC", rcFile(vmDir, r.disk()).toString());
    try {
      Files.createDirectories(MoveStore.dir(vmDir));
      return pb.start().pid();
    } catch (IOException e) {
      throw new AgentException(Kind.UNAVAILABLE, "cannot start qemu-img convert for disk " + r.disk() + " of vm " + r.vm()
          + ": " + e.getMessage(), e);
    }
  }

  static Observed observe(MoveRecord r, Path vmDir) {
    Optional<Integer> rc = exitCode(vmDir, r.disk());
    if (rc.isEmpty()) {
      if (live(r).isPresent()) return new Observed.Running(percent(vmDir, r.disk()));
      rc = exitCode(vmDir, r.disk()); // it may have ended between the two looks
      if (rc.isEmpty()) return new Observed.Failed("qemu-img convert (pid " + r.copyPid() + ") ended without an exit status");
    }
    if (rc.get() == 0) return new Observed.Done();
    return new Observed.Failed("qemu-img convert failed (exit " + rc.get() + "): " + errorText(vmDir, r.disk()));
  }

  /**
   * Kills the copy by its process group (the shell leads a session of its own, so qemu-img is in
   * it even if it was forked a moment ago) and waits until no process writing the target is left.
   */
  static void stop(MoveRecord r) {
    if (live(r).isEmpty()) return;
    try {
      new ProcessBuilder("kill", "-KILL", "--", "-" + r.copyPid()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot kill the copy of disk " + r.disk() + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AgentException(Kind.INTERNAL, "interrupted killing the copy of disk " + r.disk(), e);
    }
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!writers(r).isEmpty()) {
      if (System.nanoTime() > until) {
        throw new AgentException(Kind.INTERNAL, "the copy of disk " + r.disk() + " (pids " + writers(r)
            + ") survived SIGKILL for 10 s");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AgentException(Kind.INTERNAL, "interrupted waiting for the copy of disk " + r.disk(), e);
      }
    }
  }

  /** Processes of the copy's group still alive. */
  private static List<Long> writers(MoveRecord r) {
    return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
        .filter(h -> pgid(h.pid()) == r.copyPid()).map(ProcessHandle::pid).toList();
  }

  private static long pgid(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return f[0].equals("Z") ? -1 : Long.parseLong(f[2]); // a zombie is dead already
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  static void forget(Path vmDir, String disk) {
    try {
      Files.deleteIfExists(logFile(vmDir, disk));
      Files.deleteIfExists(rcFile(vmDir, disk));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove the copy files of disk " + disk + ": " + e.getMessage(), e);
    }
  }

  /** The copy's shell if it still runs; the pid is checked against its command line (pids get reused). */
  private static Optional<ProcessHandle> live(MoveRecord r) {
    if (r.copyPid() == null) return Optional.empty();
    return ProcessHandle.of(r.copyPid()).filter(ProcessHandle::isAlive).filter(h -> {
      try {
        return Files.readString(Path.of("/proc", r.copyPid().toString(), "cmdline"), StandardCharsets.UTF_8)
            .contains(r.targetPath());
      } catch (IOException e) {
        return false;
      }
    });
  }

  private static Optional<Integer> exitCode(Path vmDir, String disk) {
    try {
      return Optional.of(Integer.parseInt(Files.readString(rcFile(vmDir, disk)).strip()));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  private static double percent(Path vmDir, String disk) {
    Matcher m = PROGRESS.matcher(readLog(vmDir, disk));
    double last = 0;
    while (m.find()) last = Double.parseDouble(m.group(1));
    return last;
  }

  /** The log without the progress counter, e.g. "qemu-img: error while writing at byte ...: No space left on device". */
  private static String errorText(Path vmDir, String disk) {
    String text = PROGRESS.matcher(readLog(vmDir, disk)).replaceAll("").replace('\r', ' ').strip();
    return text.isEmpty() ? "(no output)" : text.replaceAll("\\s+", " ");
  }

  private static String readLog(Path vmDir, String disk) {
    try {
      return Files.readString(logFile(vmDir, disk), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

}
