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
 */
final class WarmWriters {

  private static final Logger log = LoggerFactory.getLogger(WarmWriters.class);

  /** What is persisted about a running writer. */
  record Running(long pid, String pidFile, String dir, String socket) {}

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
        log.info("warm copy {}: writer pid {} left by an earlier agent stopped", f.getFileName(), r.pid());
        stop(r);
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The socket the copy's images are served on (export = disk id), the daemon started if it is not. */
  synchronized Path socket(String id, List<AgentDisk> images) {
    Running r = running.get(id);
    if (r != null && ProcessHandle.of(r.pid()).map(ProcessHandle::isAlive).orElse(false)) return Path.of(r.socket());
    Path tmp = ImageHashes.privateDir();
    Path socket = tmp.resolve("w.sock");
    Path pidFile = tmp.resolve("w.pid");
    List<NbdDaemon.Image> served = images.stream().filter(i -> !i.format().equals("raw"))
        .map(i -> new NbdDaemon.Image(i.id(), Path.of(i.path()), i.format(), true)).toList();
    Process p = NbdDaemon.start(NbdDaemon.serve(daemon, pidFile, new NbdDaemon.Listen.Unix(socket), served, null),
        new NbdDaemon.Listen.Unix(socket), tmp.resolve("w.log"));
    r = new Running(p.pid(), pidFile.toString(), tmp.toString(), socket.toString());
    JsonFiles.write(file(id), r);
    running.put(id, r);
    return socket;
  }

  /** Stops the copy's writer, if it runs; idempotent. */
  synchronized void stop(String id) {
    Running r = running.remove(id);
    if (r != null) stop(r);
    try {
      Files.deleteIfExists(file(id));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot remove " + file(id) + ": " + e.getMessage(), e);
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
