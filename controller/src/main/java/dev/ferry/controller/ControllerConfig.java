package dev.ferry.controller;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a controller needs to start; frozen once it runs.
 *
 * @param listenHost address to bind, e.g. {@code 127.0.0.1}
 * @param listenPort port to bind; 0 picks a free one (tests)
 * @param dataDir holds the token file and, by default, the SQLite store {@code ferry.db}
 * @param dbUrl a JDBC URL ({@code jdbc:postgresql://…}) or null for SQLite in {@code dataDir}
 * @param dbUser database user, or null
 * @param dbPassword database password, or null
 * @param hostTimeout a host without a heartbeat for this long is unreachable
 * @param maxMigrationsPerHost how many migrations (live or storage) a host may take part in at
 *     once, as source or target, before another live migration touching it is refused
 * @param clock the time source for heartbeats, liveness and events
 * @param limits event retention and the SSE client cap; null for the defaults
 * @param cpuModel the cluster's baseline CPU model for new VMs (e.g. {@code EPYC}), or null: each
 *     host's default, {@code host} under KVM and {@code qemu64} under TCG
 * @param tlsDir the controller's TLS directory ({@link dev.ferry.api.tls.TlsDir}): the API is then
 *     HTTPS only, and calls to agents trust only the cluster CA and show the controller's
 *     certificate; null: plain HTTP (tests)
 * @param dhcpLeases per network, the lease file of the DHCP server Ferry runs on it (dnsmasq's, as
 *     {@code ferry cluster up} makes it): {@code vm show} reads a NIC's address from it; empty: none
 */
public record ControllerConfig(
    String listenHost,
    int listenPort,
    Path dataDir,
    String dbUrl,
    String dbUser,
    String dbPassword,
    Duration hostTimeout,
    int maxMigrationsPerHost,
    InstantSource clock,
    GrowthLimits limits,
    String cpuModel,
    Path tlsDir,
    Map<String, Path> dhcpLeases) {

  public static final Duration DEFAULT_HOST_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_MIGRATIONS_PER_HOST = 2;
  /** Beyond this a host would only thrash: every migration shares its NIC, disks and CPUs. */
  public static final int MAX_MIGRATIONS_PER_HOST = dev.ferry.api.rules.MigrationRules.MAX_MIGRATIONS_PER_HOST;

  public ControllerConfig {
    Objects.requireNonNull(listenHost, "listenHost");
    Objects.requireNonNull(dataDir, "dataDir");
    if (listenPort < 0 || listenPort > 65535) {
      throw new IllegalArgumentException("listen port " + listenPort + " is not in 0-65535");
    }
    hostTimeout = hostTimeout == null ? DEFAULT_HOST_TIMEOUT : hostTimeout;
    if (hostTimeout.isNegative() || hostTimeout.isZero()) {
      throw new IllegalArgumentException("host timeout " + hostTimeout + " must be positive");
    }
    if (maxMigrationsPerHost < 1 || maxMigrationsPerHost > MAX_MIGRATIONS_PER_HOST) {
      throw new IllegalArgumentException("max migrations per host " + maxMigrationsPerHost + " is not in 1-"
          + MAX_MIGRATIONS_PER_HOST);
    }
    clock = clock == null ? InstantSource.system() : clock;
    limits = limits == null ? GrowthLimits.defaults() : limits;
    if (cpuModel != null && !cpuModel.matches("[A-Za-z0-9_.-]{1,40}")) {
      throw new IllegalArgumentException("cpu model '" + cpuModel + "' is not a qemu cpu model name such as EPYC or qemu64");
    }
    tlsDir = tlsDir == null ? null : tlsDir.toAbsolutePath().normalize();
    dhcpLeases = dhcpLeases == null ? Map.of() : Map.copyOf(dhcpLeases);
  }

  /** A configuration without DHCP lease files. */
  public ControllerConfig(String listenHost, int listenPort, Path dataDir, String dbUrl, String dbUser, String dbPassword,
      Duration hostTimeout, int maxMigrationsPerHost, InstantSource clock, GrowthLimits limits, String cpuModel,
      Path tlsDir) {
    this(listenHost, listenPort, dataDir, dbUrl, dbUser, dbPassword, hostTimeout, maxMigrationsPerHost, clock, limits,
        cpuModel, tlsDir, null);
  }

  /** A controller on a free loopback port with SQLite in {@code dataDir}: what tests start. */
  public static ControllerConfig loopback(Path dataDir, Duration hostTimeout) {
    return new ControllerConfig("127.0.0.1", 0, dataDir, null, null, null, hostTimeout,
        DEFAULT_MAX_MIGRATIONS_PER_HOST, null, null, null, null);
  }

  /** The same configuration with another database (e.g. PostgreSQL in tests). */
  public ControllerConfig withDatabase(String url, String user, String password) {
    return new ControllerConfig(listenHost, listenPort, dataDir, url, user, password, hostTimeout,
        maxMigrationsPerHost, clock, limits, cpuModel, tlsDir, dhcpLeases);
  }

  /** The same configuration with another per-host migration limit. */
  public ControllerConfig withMaxMigrationsPerHost(int max) {
    return new ControllerConfig(listenHost, listenPort, dataDir, dbUrl, dbUser, dbPassword, hostTimeout, max, clock,
        limits, cpuModel, tlsDir, dhcpLeases);
  }

  /** The same configuration with other growth limits. */
  public ControllerConfig withLimits(GrowthLimits other) {
    return new ControllerConfig(listenHost, listenPort, dataDir, dbUrl, dbUser, dbPassword, hostTimeout,
        maxMigrationsPerHost, clock, other, cpuModel, tlsDir, dhcpLeases);
  }

  /** The same configuration with a cluster baseline CPU model (null: each host's default). */
  public ControllerConfig withCpuModel(String model) {
    return new ControllerConfig(listenHost, listenPort, dataDir, dbUrl, dbUser, dbPassword, hostTimeout,
        maxMigrationsPerHost, clock, limits, model, tlsDir, dhcpLeases);
  }

  /** The controller's TLS files, or null without TLS. */
  public dev.ferry.api.tls.TlsDir tls() {
    return tlsDir == null ? null : new dev.ferry.api.tls.TlsDir(tlsDir);
  }

  /** The same configuration served over TLS from {@code dir}. */
  public ControllerConfig withTls(Path dir) {
    return new ControllerConfig(listenHost, listenPort, dataDir, dbUrl, dbUser, dbPassword, hostTimeout,
        maxMigrationsPerHost, clock, limits, cpuModel, dir, dhcpLeases);
  }
}
