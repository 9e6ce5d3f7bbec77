package dev.ferry.app;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The QEMUs a run started under its own directory, found by their pid files
 * ({@code <root>/<host>/vms/<vm>/run/qemu.pid}, a local cluster's layout) and killed by pid: agents
 * let their QEMUs outlive them by design, and an automatic step (a re-protection's new secondary)
 * starts QEMUs the run never saw a pid of. A pid is killed only while its command line still
 * names that run directory, so a pid the kernel gave to another process since is left alone.
 */
public final class LeftoverQemus {

  private LeftoverQemus() {}

  /** Kills them; returns the pids killed. {@code hostsRoot} holds one data directory per host. */
  public static List<Long> kill(Path hostsRoot) {
    List<Long> killed = new ArrayList<>();
    if (!Files.isDirectory(hostsRoot)) return killed;
    try (Stream<Path> files = Files.walk(hostsRoot, 6)) {
      for (Path pidFile : files.filter(p -> p.getFileName().toString().equals("qemu.pid")).toList()) {
        Path run = pidFile.getParent();
        long pid;
        try {
          pid = Long.parseLong(Files.readString(pidFile).strip());
        } catch (IOException | NumberFormatException e) {
          continue;
        }
        ProcessHandle.of(pid).filter(h -> namesRunDir(pid, run)).ifPresent(h -> {
          h.destroyForcibly();
          killed.add(pid);
        });
      }
    } catch (IOException e) {
      // nothing more to find
    }
    return killed;
  }

  /**
   * Deletes these taps where they are still tun devices (never another interface of that name):
   * a QEMU killed without its agent (a killed host, a run's cleanup) leaves the persistent tap the
   * agent made for it. Returns the names deleted.
   */
  public static List<String> removeTaps(List<String> names) {
    List<String> removed = new ArrayList<>();
    for (String tap : names) {
      if (!Files.exists(Path.of("/sys/class/net", tap, "tun_flags"))) continue;
      try {
        Process p = new ProcessBuilder("ip", "link", "del", "dev", tap).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() == 0) removed.add(tap);
      } catch (IOException e) {
        // left for the next cleanup to find
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return removed;
      }
    }
    return removed;
  }

  private static boolean namesRunDir(long pid, Path run) {
    try {
      String cmd = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
      return cmd.contains(run.toString());
    } catch (IOException e) {
      return false;
    }
  }
}
