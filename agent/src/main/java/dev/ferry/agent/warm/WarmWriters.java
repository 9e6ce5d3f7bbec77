package dev.ferry.agent.warm;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.JsonFiles;
import dev.ferry.agent.cold.ImageHashes;
import dev.ferry.agent.cold.NbdDaemon;
import dev.ferry.api.agent.AgentDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code qemu-storage-daemon} a warm copy writes its non-raw images through (each image
 * exported under its disk id on a private UNIX socket), started by the first pass that needs it
 * and kept until the copy's hashes are asked for, so that later passes, the final one while the
 * guest is down among them, do not pay its start (70-190 ms measured on a loaded 2-core host).
 *
 * <p>It must be gone before the VM starts on these images (it holds their write lock): the
 * cutover asks for the hashes before it defines the VM, and a cancel or a forget stops it too.
 * Its pid is in {@code DATA/warm/copies/ID.writer}; an agent that starts stops the daemons an
 * earlier agent left (no pass runs after a restart without being asked again).
 *
 * <p>Before the final pass the writer can be the VM's own staged QEMU instead ({@link #inQemu}):
 * the daemon stops, the QEMU opens the images and serves them, and the final pass writes there.
 * That writer is never stopped from here (the QEMU is the VM's): {@link #stop} only forgets it,
 * and an agent that starts keeps it while that QEMU lives.
 */
final class WarmWriters {

  private static final Logger log = LoggerFactory.getLogger(WarmWriters.class);

  /** What is persisted about a running writer; {@code inQemu}: the VM's staged QEMU (pid), whose run directory holds the socket. */
  record Running(long pid, String pidFile, String dir, String socket, Boolean inQemu) {
    boolean qemu() {
      return Boolean.TRUE.equals(inQemu);
    }
  }

  private final Path dir;
  private final Path daemon;
  private final Map<String, Running> running = new ConcurrentHashMap<>();

  WarmWriters(Path dir, Path daemon) {
    this.dir = dir;
    this.daemon = daemon;
    if (!Files.isDirectory(dir)) return;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".writer")).toList()) {
        Running r = JsonFiles.read(f, Running.class);
        String id = f.getFileName().toString().replaceFirst("\\.writer$", "");
        if (r.qemu() && qemuAlive(r)) {
          log.info("warm copy {}: the staged qemu pid {} stays its final pass's writer", id, r.pid());
          running.put(id, r);
          continue;
        }
        if (!r.qemu()) {
          log.info("warm copy {}: writer pid {} left by an earlier agent stopped", id, r.pid());
          stop(r);
        }
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The socket the copy's images are served on (export = disk id), the daemon started if it is not. */
  synchronized Path socket(String id, List<AgentDisk> images) {
    Running r = running.get(id);
    if (r != null && r.qemu()) {
      if (qemuAlive(r) && r.socket() != null) return Path.of(r.socket());
      // that QEMU died (its images are free again) or serves none: a daemon writes, as before
      log.info("warm copy {}: the staged qemu pid {} no longer serves the images; a daemon writes them", id, r.pid());
      forget(id);
      r = null;
    }
    if (r != null && ProcessHandle.of(r.pid()).map(ProcessHandle::isAlive).orElse(false)) return Path.of(r.socket());
    Path tmp = ImageHashes.privateDir();
    Path socket = tmp.resolve("w.sock");
    Path pidFile = tmp.resolve("w.pid");
    List<NbdDaemon.Image> served = images.stream().filter(i -> !i.format().equals("raw"))
        .map(i -> new NbdDaemon.Image(i.id(), Path.of(i.path()), i.format(), true)).toList();
    Process p = NbdDaemon.start(NbdDaemon.serve(daemon, pidFile, new NbdDaemon.Listen.Unix(socket), served, null),
        new NbdDaemon.Listen.Unix(socket), tmp.resolve("w.log"));
    r = new Running(p.pid(), pidFile.toString(), tmp.toString(), socket.toString(), null);
    JsonFiles.write(file(id), r);
    running.put(id, r);
    return socket;
  }

  /**
   * The VM's staged QEMU (pid {@code pid}) writes the copy's images from now on, serving them on
   * {@code socket} (null: every image is raw, written directly). The daemon must be stopped first.
   */
  synchronized void inQemu(String id, long pid, Path socket) {
    if (running.containsKey(id) && !running.get(id).qemu()) {
      throw new IllegalStateException("warm copy " + id + ": its writer daemon still runs");
    }
    Running r = new Running(pid, null, null, socket == null ? null : socket.toString(), true);
    JsonFiles.write(file(id), r);
    running.put(id, r);
  }

  /** Stops the copy's writer, if it runs (a staged QEMU is only forgotten); idempotent. */
  synchronized void stop(String id) {
    Running r = running.remove(id);
    if (r != null && !r.qemu()) stop(r);
    forget(id);
  }

  private void forget(String id) {
    running.remove(id);
    try {
      Files.deleteIfExists(file(id));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove " + file(id) + ": " + e.getMessage(), e);
    }
  }

  /** The staged QEMU still runs: its pid's command line names the run directory of the socket. */
  private static boolean qemuAlive(Running r) {
    if (r.socket() == null) return ProcessHandle.of(r.pid()).map(ProcessHandle::isAlive).orElse(false);
    try {
      String cmdline = Files.readString(Path.of("/proc", Long.toString(r.pid()), "cmdline"));
      return cmdline.contains(Path.of(r.socket()).getParent().toString());
    } catch (IOException e) {
      return false;
    }
  }

  private static void stop(Running r) {
    NbdDaemon.stop(r.pid(), Path.of(r.pidFile()));
    ImageHashes.deleteTree(Path.of(r.dir()));
  }

  private Path file(String id) {
    return dir.resolve(id + ".writer");
  }
}
