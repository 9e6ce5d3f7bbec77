package dev.ferry.controller;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
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
 * @param clock the time source for heartbeats, liveness and events
 */
public record ControllerConfig(
    String listenHost,
    int listenPort,
    Path dataDir,
    String dbUrl,
    String dbUser,
    String dbPassword,
    Duration hostTimeout,
    InstantSource clock) {

  public static final Duration DEFAULT_HOST_TIMEOUT = Duration.ofSeconds(10);

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
    clock = clock == null ? InstantSource.system() : clock;
  }

  /** A controller on a free loopback port with SQLite in {@code dataDir}: what tests start. */
  public static ControllerConfig loopback(Path dataDir, Duration hostTimeout) {
    return new ControllerConfig("127.0.0.1", 0, dataDir, null, null, null, hostTimeout, null);
  }

  /** The same configuration with another database (e.g. PostgreSQL in tests). */
  public ControllerConfig withDatabase(String url, String user, String password) {
    return new ControllerConfig(listenHost, listenPort, dataDir, url, user, password, hostTimeout, clock);
  }
}
