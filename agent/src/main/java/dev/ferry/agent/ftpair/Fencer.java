package dev.ferry.agent.ftpair;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A protected primary's heartbeat and self-fence, in a process of its own (docs/ft.md, failure
 * detection). The agent starts one per protected VM in a session of its own ({@link FencerProcess});
 * like the QEMU it outlives an agent restart, and the next agent re-adopts it from its pid file. So
 * the primary's heartbeat no longer stops when its agent restarts, and the controller may read a
 * silent primary as a lost host (or a fenced guest) after {@code FtWatch.HOST_SILENCE}.
 *
 * <p>Every 100 ms it sends {@code ferry-ft VM TOKEN SEQ} to the secondary's agent
 * ({@link HeartbeatSender}) while the QEMU lives and is not stopped, so its silence means the host
 * is gone, the QEMU is dead or the QEMU is fenced. It hears the controller only through the agent:
 * each controller status call makes the agent rewrite {@link FencerProcess#CONTROL} with the time
 * (the host's monotonic clock: {@code System.nanoTime} is {@code CLOCK_MONOTONIC} for every process
 * on Linux) and whether the pair is protected yet (armed). A restarting agent is therefore an
 * unheard controller: the fencer then fences only if it loses the secondary's answers as well.
 * Armed and having heard neither for {@link #FENCE_AFTER}, it stops the QEMU with SIGSTOP by pid,
 * records that in {@link FencerProcess#STATE} and exits; it exits too when the QEMU is gone.
 */
final class Fencer {

  /**
   * Silence of both the secondary and the controller after which the guest stops: shorter than the
   * controller's {@code FtWatch.HOST_SILENCE} (800 ms), so a cut-off primary is stopped before the
   * secondary may take over.
   */
  static final Duration FENCE_AFTER = Duration.ofMillis(500);

  private final String vm;
  private final long qemuPid;
  private final ProcessHandle qemu;
  private final Path dir;
  private final long startedNanos = System.nanoTime();
  private HeartbeatSender heartbeat;

  private Fencer(String vm, ProcessHandle qemu, Path dir) {
    this.vm = vm;
    this.qemuPid = qemu.pid();
    this.qemu = qemu;
    this.dir = dir;
  }

  /** {@code VM TOKEN ADDRESS PORT QEMU_PID DIR}, as {@link FencerProcess#command} writes them. */
  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: Fencer VM TOKEN ADDRESS PORT QEMU_PID DIR (got " + args.length + " arguments)");
      System.exit(2);
    }
    long pid = Long.parseLong(args[4]);
    // the handle remembers the process's start time: a reused pid is not taken for the guest
    ProcessHandle qemu = ProcessHandle.of(pid).orElse(null);
    if (qemu == null) {
      say(args[0], "qemu pid " + pid + " is not running; nothing to guard");
      return;
    }
    var f = new Fencer(args[0], qemu, Path.of(args[5]));
    f.heartbeat = new HeartbeatSender(args[0], args[1], args[2], Integer.parseInt(args[3]), f::guestRuns, f::afterRound);
    say(args[0], "guarding qemu pid " + pid + ", heartbeats to " + args[2] + ":" + args[3]);
    qemu.onExit().get();
    // the QEMU is gone: nothing to heartbeat for (the agent reports the guest gone) nor to fence
    f.writeState(null, null);
    say(args[0], "qemu pid " + pid + " exited; fencer ends");
    System.exit(0);
  }

  /** Heartbeats go out only while the guest can run: a stopped (fenced) QEMU must fall silent too. */
  private boolean guestRuns() {
    return qemu.isAlive() && !stopped(qemuPid);
  }

  /** Whether the process is stopped by a signal (state T) or traced (t), from /proc/PID/stat. */
  static boolean stopped(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      int i = stat.lastIndexOf(')');
      char state = i >= 0 && i + 2 < stat.length() ? stat.charAt(i + 2) : '?';
      return state == 'T' || state == 't';
    } catch (IOException e) {
      return false;
    }
  }

  /** After each heartbeat round: record what this side hears, and fence when armed and cut off from both. */
  private void afterRound() {
    long now = System.nanoTime();
    FencerProcess.Control c = FencerProcess.readControl(dir);
    long controllerSilentMs = (now - (c == null ? startedNanos : Math.max(c.heardNanos(), startedNanos))) / 1_000_000;
    long secondarySilentMs = heartbeat.silentMs();
    if (c != null && c.armed() && secondarySilentMs >= FENCE_AFTER.toMillis()
        && controllerSilentMs >= FENCE_AFTER.toMillis() && guestRuns()) {
      fence("heard neither the secondary (" + secondarySilentMs + " ms) nor the controller through the agent ("
          + controllerSilentMs + " ms)");
      return;
    }
    writeState(null, null);
  }

  private void fence(String why) {
    int rc;
    try {
      Process kill = new ProcessBuilder(List.of("kill", "-STOP", Long.toString(qemuPid))).inheritIO().start();
      rc = kill.waitFor(5, TimeUnit.SECONDS) ? kill.exitValue() : -1;
    } catch (IOException e) {
      rc = -1;
      why = why + "; kill failed: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rc = -1;
    }
    if (rc != 0 && !stopped(qemuPid)) {
      // keep trying next round: the state file must never say fenced while the guest runs
      say(vm, "could not stop qemu pid " + qemuPid + " (kill exit " + rc + "): " + why);
      return;
    }
    writeState(Instant.now(), why);
    say(vm, "fenced: qemu pid " + qemuPid + " stopped (SIGSTOP): " + why);
    heartbeat.close();
    System.exit(0);
  }

  private void writeState(Instant fencedAt, String why) {
    long silentSince = System.nanoTime() - heartbeat.silentMs() * 1_000_000;
    FencerProcess.writeState(dir, new FencerProcess.State(silentSince, fencedAt, why));
  }

  private static void say(String vm, String what) {
    System.err.println(Instant.now() + " ferry-ft-fencer vm " + vm + ": " + what);
  }
}
