package dev.ferry.agent.qemu;

import dev.ferry.agent.AgentException;
import java.nio.file.Path;

/**
 * Where one QEMU process keeps its runtime files. Everything needed to re-adopt the process
 * after an agent restart (pid file, QMP socket) is here.
 */
public record RunDir(Path dir) {

  /** sun_path is 108 bytes; leave room for the terminating NUL */
  static final int MAX_SOCKET_PATH = 107;

  public RunDir {
    dir = dir.toAbsolutePath().normalize();
    if (qmpSocketOf(dir).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
      throw new AgentException(AgentException.Kind.INVALID, "run directory " + dir
          + " is too long for a UNIX socket path (at most " + MAX_SOCKET_PATH + " bytes with /qmp.sock); use a shorter data directory");
    }
  }

  private static Path qmpSocketOf(Path dir) {
    return dir.resolve("qmp.sock");
  }

  public Path qmpSocket() {
    return qmpSocketOf(dir);
  }

  /** the NBD server a staged QEMU serves its images on for a warm cutover's final pass (as long as qmp.sock) */
  public Path finalPassSocket() {
    return dir.resolve("nbd.sock");
  }

  public Path pidFile() {
    return dir.resolve("qemu.pid");
  }

  /** the guest's serial console */
  public Path console() {
    return dir.resolve("console.log");
  }

  /** the command line the agent started QEMU with, for people reading the run directory */
  public Path cmdline() {
    return dir.resolve("cmdline");
  }

  /** QEMU's own stdout and stderr */
  public Path qemuLog() {
    return dir.resolve("qemu.log");
  }
}
