package dev.ferry.agent;

import dev.ferry.agent.migration.PortRange;
import dev.ferry.agent.pool.PoolRoots;
import dev.ferry.agent.qemu.AccelMode;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.api.Names;
import dev.ferry.api.auth.SecretFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything an agent needs to start; frozen once it runs.
 *
 * @param listenPort   0 picks a free port ({@link Agent#url()} tells which)
 * @param controller   base URL of the controller heartbeats go to, e.g. {@code http://127.0.0.1:7070}
 * @param cpus         null: the machine's
 * @param memoryBytes  null: the machine's (MemTotal)
 * @param accel        {@code --accel}: null is {@link AccelMode#AUTO}; tests pin TCG to skip the probe
 * @param poolRoots    directories pools may be defined under; null or empty: {@link PoolRoots#defaults}
 * @param tlsDir       the host's TLS directory ({@link dev.ferry.api.tls.TlsDir}): the API is then
 *                     HTTPS only and asks for a client certificate, heartbeats trust only the
 *                     cluster CA, and migration and NBD streams are TLS too; null: plain HTTP
 *                     and streams in clear (tests of one agent alone)
 * @param token        this host's own credential, shown to the controller with every heartbeat
 * @param controllerCredentialSha256 SHA-256 (hex) of the controller's credential, the only bearer
 *     secret the agent's API accepts (never a user token); null: the hash of {@code token}, for
 *     tests and benchmarks where one secret plays both parts
 * @param migrationPorts the ports QEMU listens on for other hosts (migration, NBD, post-copy
 *                     recovery); null: {@link PortRange#DEFAULT}
 * @param ftQemu       the QEMU binary to probe first for fault tolerance (Ferry's own build, issue
 *                     12); null: the newest build in {@code ~/.cache/ferry/qemu}, if any
 */
public record AgentConfig(
    String name,
    String listenHost,
    int listenPort,
    Path dataDir,
    String controller,
    String token,
    Duration heartbeatInterval,
    Integer cpus,
    Long memoryBytes,
    AccelMode accel,
    List<Path> poolRoots,
    dev.ferry.agent.vm.LogCaps logCaps,
    Path tlsDir,
    String controllerCredentialSha256,
    String qemuUser,
    PortRange migrationPorts,
    Path ftQemu) {

  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(2);

  public AgentConfig {
    Names.require("agent name", name);
    if (listenHost == null || listenHost.isBlank()) throw new IllegalArgumentException("listen host must not be empty");
    if (listenPort < 0 || listenPort > 65535) throw new IllegalArgumentException("listen port " + listenPort + " is not 0-65535");
    if (dataDir == null) throw new IllegalArgumentException("the agent needs a data directory");
    dataDir = dataDir.toAbsolutePath().normalize();
    if (controller == null || !(controller.startsWith("http://") || controller.startsWith("https://"))) {
      throw new IllegalArgumentException("controller '" + controller + "' must be an http:// or https:// url");
    }
    if (token == null || token.isBlank()) throw new IllegalArgumentException("the host credential must not be empty");
    token = token.strip();
    controllerCredentialSha256 = controllerCredentialSha256 == null ? SecretFile.sha256(token)
        : controllerCredentialSha256.strip().toLowerCase(java.util.Locale.ROOT);
    if (!controllerCredentialSha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("controller credential hash '" + controllerCredentialSha256
          + "' is not a SHA-256 in 64 hex digits");
    }
    heartbeatInterval = heartbeatInterval == null ? DEFAULT_HEARTBEAT : heartbeatInterval;
    if (heartbeatInterval.toMillis() < 100) {
      throw new IllegalArgumentException("heartbeat interval " + heartbeatInterval + " is shorter than 100 ms");
    }
    if (cpus != null && (cpus < 1 || cpus > 4096)) throw new IllegalArgumentException("cpus " + cpus + " is not 1-4096");
    accel = accel == null ? AccelMode.AUTO : accel;
    if (memoryBytes != null && memoryBytes < 16L << 20) {
      throw new IllegalArgumentException("memory " + memoryBytes + " bytes is less than 16 MiB");
    }
    poolRoots = poolRoots == null ? List.of() : List.copyOf(poolRoots);
    logCaps = logCaps == null ? dev.ferry.agent.vm.LogCaps.defaults() : logCaps;
    tlsDir = tlsDir == null ? null : tlsDir.toAbsolutePath().normalize();
    migrationPorts = migrationPorts == null ? PortRange.DEFAULT : migrationPorts;
    ftQemu = ftQemu == null ? null : ftQemu.toAbsolutePath().normalize();
    for (Path root : poolRoots) {
      if (!root.isAbsolute()) throw new IllegalArgumentException("pool root " + root + " must be an absolute directory");
      if (root.normalize().getParent() == null) {
        throw new IllegalArgumentException("pool root " + root + " is the file system root: any host file could become a disk");
      }
    }
  }

  /** The pool roots in force: the configured ones, else the defaults for this data directory. */
  public PoolRoots roots() {
    return poolRoots.isEmpty() ? PoolRoots.defaults(dataDir) : new PoolRoots(poolRoots, dataDir);
  }

  public AgentConfig withQemuUser(String user) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes, accel,
        poolRoots, logCaps, tlsDir, controllerCredentialSha256, user, migrationPorts, ftQemu);
  }

  public AgentConfig withFtQemu(Path binary) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes, accel,
        poolRoots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, binary);
  }

  public AgentConfig withPoolRoots(List<Path> roots) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes, accel,
        roots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  /** The usual agent: machine resources, probed accelerator, heartbeats every 2 s. */
  public static AgentConfig of(String name, String listenHost, int listenPort, Path dataDir, String controller, String token) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, DEFAULT_HEARTBEAT, null, null, null, null, null, null, null, null, null, null);
  }

  /** Pins the accelerator: TCG skips the probe, KVM requires it to succeed. */
  public AgentConfig withAccelerator(Accelerator pinned) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes,
        pinned == Accelerator.KVM ? AccelMode.KVM : AccelMode.TCG, poolRoots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  public AgentConfig withHeartbeatInterval(Duration interval) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, interval, cpus, memoryBytes, accel, poolRoots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  public AgentConfig withResources(Integer newCpus, Long newMemoryBytes) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, newCpus, newMemoryBytes,
        accel, poolRoots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  public AgentConfig withLogCaps(dev.ferry.agent.vm.LogCaps caps) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes,
        accel, poolRoots, caps, tlsDir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  /** The host's TLS files, or null without TLS. */
  public dev.ferry.api.tls.TlsDir tls() {
    return tlsDir == null ? null : new dev.ferry.api.tls.TlsDir(tlsDir);
  }

  public AgentConfig withTls(Path dir) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes,
        accel, poolRoots, logCaps, dir, controllerCredentialSha256, qemuUser, migrationPorts, ftQemu);
  }

  public AgentConfig withMigrationPorts(PortRange ports) {
    return new AgentConfig(name, listenHost, listenPort, dataDir, controller, token, heartbeatInterval, cpus, memoryBytes,
        accel, poolRoots, logCaps, tlsDir, controllerCredentialSha256, qemuUser, ports, ftQemu);
  }
}
