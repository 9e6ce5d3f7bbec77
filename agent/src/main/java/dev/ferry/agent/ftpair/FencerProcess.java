package dev.ferry.agent.ftpair;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.agent.FtProtectRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of a VM's {@link Fencer}: starts it as its own JVM in a session of its own (a
 * signal to the agent's process group, or the agent's death, never reaches it), re-adopts it after
 * an agent restart from its pid file (checked against the process's command line, never by name),
 * relays the controller to it ({@link #heardController}) and reads what it heard and did.
 *
 * <p>The files live in the VM's directory: {@link #PID} (written by the agent once started),
 * {@link #CONTROL} ({@code HEARD_NANOS ARMED}, by the agent), {@link #STATE}
 * ({@code SILENT_SINCE_NANOS FENCED_AT_OR_- REASON}, by the fencer after every round), each
 * replaced whole by a rename so a reader never sees half of one.
 */
final class FencerProcess {

  private static final Logger log = LoggerFactory.getLogger(FencerProcess.class);
  static final String PID = "ft-fencer.pid";
  static final String CONTROL = "ft-fencer.control";
  static final String STATE = "ft-fencer.state";
  static final String LOG = "ft-fencer.log";

  /** What the agent last told the fencer: when it last heard the controller, and whether the pair is protected. */
  record Control(long heardNanos, boolean armed) {}

  /** What the fencer last recorded: since when the secondary is silent, and whether it fenced the guest (and why). */
  record State(long silentSinceNanos, Instant fencedAt, String reason) {}

  private final String vm;
  private final Path dir;
  private final ProcessHandle handle;
  private volatile boolean armed;

  private FencerProcess(String vm, Path dir, ProcessHandle handle, boolean armed) {
    this.vm = vm;
    this.dir = dir;
    this.handle = handle;
    this.armed = armed;
  }

  /**
   * The VM's fencer: the one an earlier agent started when it still runs for this directory,
   * else a new one. {@code armed}: the pair is protected (a fencer fences only then).
   */
  static FencerProcess startOrAdopt(String vm, FtProtectRequest r, long qemuPid, Path dir, boolean armed) {
    Optional<ProcessHandle> live = live(dir);
    if (live.isPresent()) {
      var f = new FencerProcess(vm, dir, live.get(), armed);
      f.heardController();
      log.info("vm {}: adopted ft fencer pid {}", vm, live.get().pid());
      return f;
    }
    try {
      Files.deleteIfExists(dir.resolve(STATE));
      var f0 = new FencerProcess(vm, dir, null, armed);
      f0.heardController(); // before it starts: it must not begin unheard
      Process p = new ProcessBuilder(command(vm, r, qemuPid, dir))
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
          .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(LOG).toFile()))
          .redirectErrorStream(true)
          .start();
      write(dir.resolve(PID), Long.toString(p.pid()));
      log.info("vm {}: started ft fencer pid {} (heartbeats to {}:{})", vm, p.pid(), r.secondaryAddress(),
          r.heartbeatPort());
      return new FencerProcess(vm, dir, p.toHandle(), armed);
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "vm " + vm + ": cannot start its ft fencer: " + e.getMessage(), e);
    }
  }

  /** The same JVM and class path as this agent; a small heap, it holds a socket and a few strings. */
  static List<String> command(String vm, FtProtectRequest r, long qemuPid, Path dir) {
    var cmd = new ArrayList<String>();
    cmd.add("setsid");
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-Xmx32m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
        "-cp", System.getProperty("java.class.path"), Fencer.class.getName(), vm, r.heartbeatToken(),
        r.secondaryAddress(), Integer.toString(r.heartbeatPort()), Long.toString(qemuPid),
        dir.toAbsolutePath().toString()));
    return cmd;
  }

  /** The fencer of this directory that still runs, if any: its pid file's process, if its command line names it. */
  static Optional<ProcessHandle> live(Path dir) {
    long pid;
    try {
      pid = Long.parseLong(Files.readString(dir.resolve(PID)).strip());
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
    Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    if (h.isEmpty()) return h;
    try {
      String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"), StandardCharsets.UTF_8);
      String abs = dir.toAbsolutePath().toString();
      if (!cmdline.contains(Fencer.class.getName()) || !cmdline.contains("\0" + abs)) return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
    return h;
  }

  /** Ends the fencer of this directory if one runs (by its pid, SIGTERM), and its files. */
  static void stop(String vm, Path dir) {
    live(dir).ifPresent(h -> {
      h.destroy();
      log.info("vm {}: ft fencer pid {} stopped", vm, h.pid());
    });
    for (String f : List.of(PID, CONTROL, STATE)) {
      try {
        Files.deleteIfExists(dir.resolve(f));
      } catch (IOException e) {
        log.warn("vm {}: cannot delete {}: {}", vm, dir.resolve(f), e.getMessage());
      }
    }
  }

  void stop() {
    stop(vm, dir);
  }

  boolean alive() {
    return handle != null && handle.isAlive();
  }

  /** The controller reached this agent now (relayed to the fencer, which fences only when this goes stale too). */
  void heardController() {
    writeControl(dir, new Control(System.nanoTime(), armed));
  }

  /** The pair is protected: from now on the fencer fences when cut off. */
  void arm() {
    armed = true;
    heardController();
  }

  /** Milliseconds since the fencer last heard the secondary's answer; null before its first round. */
  Long secondarySilentMs() {
    State s = state();
    return s == null ? null : Math.max(0, (System.nanoTime() - s.silentSinceNanos()) / 1_000_000);
  }

  State state() {
    return readState(dir);
  }

  static Control readControl(Path dir) {
    String[] f = read(dir.resolve(CONTROL), 2);
    if (f == null) return null;
    try {
      return new Control(Long.parseLong(f[0]), Boolean.parseBoolean(f[1]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static void writeControl(Path dir, Control c) {
    try {
      write(dir.resolve(CONTROL), c.heardNanos() + " " + c.armed());
    } catch (IOException e) {
      log.warn("ft fencer control in {}: {}", dir, e.getMessage());
    }
  }

  static State readState(Path dir) {
    String[] f = read(dir.resolve(STATE), 3);
    if (f == null) return null;
    try {
      return new State(Long.parseLong(f[0]), f[1].equals("-") ? null : Instant.parse(f[1]), f[2].isEmpty() ? null : f[2]);
    } catch (RuntimeException e) {
      return null;
    }
  }

  static void writeState(Path dir, State s) {
    try {
      write(dir.resolve(STATE), s.silentSinceNanos() + " " + (s.fencedAt() == null ? "-" : s.fencedAt().toString()) + " "
          + (s.reason() == null ? "" : s.reason().replace('\n', ' ')));
    } catch (IOException e) {
      System.err.println("ferry-ft-fencer: cannot write " + dir.resolve(STATE) + ": " + e.getMessage());
    }
  }

  private static String[] read(Path file, int fields) {
    try {
      String[] f = Files.readString(file, StandardCharsets.UTF_8).strip().split(" ", fields);
      if (f.length == fields - 1 && fields == 3) return new String[] {f[0], f[1], ""};
      return f.length == fields ? f : null;
    } catch (IOException e) {
      return null;
    }
  }

  /** Replaced whole (a rename), never fsynced: it describes a running process, not something to survive a crash. */
  private static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp" + ProcessHandle.current().pid() + "-"
        + Thread.currentThread().threadId());
    Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
