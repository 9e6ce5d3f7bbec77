package dev.ferry.controller;

import dev.ferry.api.Durations;
import dev.ferry.api.StartupFailure;
import dev.ferry.api.auth.SecretFile;
import dev.ferry.api.rules.MigrationRules;
import dev.ferry.api.rules.RuleViolation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code ferry controller}: runs the controller until SIGTERM or SIGINT, then stops it cleanly
 * from a shutdown hook.
 */
@Command(name = "controller", mixinStandardHelpOptions = true,
    description = "Run the cluster controller: inventory, placement, REST API and events.")
public final class ControllerCommand implements Callable<Integer> {

  /** Read by {@code dev.ferry.app.Main} before parsing (its settings are this command's defaults); here for --help. */
  @Option(names = "--config", paramLabel = "FILE",
      description = "settings file: one 'key = value' per line, keys are these options' names without '--'"
          + " (e.g. /etc/ferry/controller.conf); flags override it")
  java.nio.file.Path configFile;

  @Spec
  CommandSpec spec;

  @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:7400",
      converter = HostPortConverter.class, description = "address to listen on (default: ${DEFAULT-VALUE})")
  HostPort listen;

  @Option(names = "--data", paramLabel = "DIR", required = true,
      description = "data directory: token file and the SQLite store ferry.db")
  Path data;

  @Option(names = "--db", paramLabel = "JDBC_URL",
      description = "database instead of SQLite in DIR, e.g. jdbc:postgresql://db:5432/ferry")
  String db;

  @Option(names = "--db-user", paramLabel = "U", description = "database user")
  String dbUser;

  @Option(names = "--db-password-file", paramLabel = "FILE",
      description = "file (mode 0600) holding the database password (default: $FERRY_DB_PASSWORD)")
  Path dbPasswordFile;

  @Option(names = "--host-timeout", paramLabel = "DURATION", defaultValue = "10s",
      converter = DurationConverter.class,
      description = "a host without a heartbeat for this long is unreachable (default: ${DEFAULT-VALUE})")
  Duration hostTimeout;

  @Option(names = "--max-migrations-per-host", paramLabel = "N", defaultValue = "2",
      converter = MigrationLimitConverter.class,
      description = "a live migration is refused while its source or target host already takes part in N migrations,"
          + " live or storage (1-64, default: ${DEFAULT-VALUE})")
  int maxMigrationsPerHost;

  @Option(names = "--event-retention", paramLabel = "DURATION", defaultValue = "7d",
      converter = RetentionConverter.class,
      description = "events older than this are pruned from the store: whole days (7d) or any duration"
          + " (12h, 30m) (default: ${DEFAULT-VALUE})")
  Duration eventRetention;

  @Option(names = "--event-max-count", paramLabel = "N", defaultValue = "200000",
      description = "at most N events are kept, the newest (default: ${DEFAULT-VALUE})")
  long eventMaxCount;

  @Option(names = "--sse-max-clients", paramLabel = "N", defaultValue = "64",
      description = "at most N clients on /api/events at once; the next is answered 503 (default: ${DEFAULT-VALUE})")
  int sseMaxClients;

  @Option(names = "--cpu-model", paramLabel = "MODEL",
      description = "the cluster's baseline QEMU cpu model for new VMs, e.g. EPYC or Skylake-Server: every host that"
          + " runs it can take every VM (default: host under kvm, qemu64 under tcg)")
  String cpuModel;

  @Option(names = "--dhcp-leases", paramLabel = "NETWORK=FILE",
      description = "the lease file of the DHCP server on a network (dnsmasq's format), for the addresses vm show"
          + " lists; repeatable ('ferry cluster up' passes its network's)")
  java.util.Map<String, Path> dhcpLeases = new java.util.LinkedHashMap<>();

  @Option(names = "--tls", paramLabel = "DIR",
      description = "the controller's TLS directory (ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem,"
          + " client-key.pem; made by 'ferry ca issue'): the API is then HTTPS only and agents are called over HTTPS"
          + " with the cluster CA")
  Path tls;

  @Override
  public Integer call() throws Exception {
    GrowthLimits limits;
    try {
      limits = new GrowthLimits(eventRetention, eventMaxCount, sseMaxClients);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), e.getMessage());
    }
    Controller controller;
    try {
      controller = start(new ControllerConfig(listen.host(), listen.port(), data, db, dbUser,
          dbPassword(System.getenv("FERRY_DB_PASSWORD")),
          hostTimeout, maxMigrationsPerHost, null, limits, cpuModel, tls, dhcpLeases));
    } catch (RuntimeException e) {
      throw StartupFailure.of("controller", e);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      controller.close();
      stopped.countDown();
    }, "ferry-controller-shutdown"));
    stopped.await();
    return 0;
  }

  /**
   * The password from {@code --db-password-file} (refused unless 0600 or 0400), else the
   * environment, else none. Never an option's value: command lines are readable by every user.
   */
  String dbPassword(String env) {
    if (dbPasswordFile != null) {
      try {
        return SecretFile.read(dbPasswordFile);
      } catch (SecretFile.Refused e) {
        throw new ParameterException(spec.commandLine(), "--db-password-file: " + e.getMessage());
      }
    }
    return env == null || env.isEmpty() ? null : env;
  }

  /** The programmatic entry: starts a controller and returns its handle (url, token, close). */
  public static Controller start(ControllerConfig config) {
    return Controller.start(config);
  }

  /** {@code HOST:PORT}; an IPv6 host in brackets, {@code [::1]:7400}. */
  record HostPort(String host, int port) {}

  static final class HostPortConverter implements ITypeConverter<HostPort> {
    @Override
    public HostPort convert(String text) {
      int colon = text.lastIndexOf(':');
      if (colon > 0 && colon < text.length() - 1) {
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
          int port = Integer.parseInt(text.substring(colon + 1));
          if (port >= 0 && port <= 65535) return new HostPort(host, port);
        } catch (NumberFormatException e) {
          // fall through to the one message below
        }
      }
      throw new TypeConversionException("'" + text + "' is not HOST:PORT with a port 0-65535, e.g. 127.0.0.1:7400");
    }
  }

  /** {@link Durations}' grammar, more than zero; picocli names the option in front of the message. */
  static final class DurationConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parsePositive("duration", value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /**
   * A retention is counted in days more often than not, so {@code Nd} is understood here on top
   * of the common grammar (which has no days: no other option wants them).
   */
  static final class RetentionConverter implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String t = value == null ? "" : value.strip().toLowerCase(java.util.Locale.ROOT);
      if (t.matches("\\d{1,5}d")) {
        Duration d = Duration.ofDays(Long.parseLong(t.substring(0, t.length() - 1)));
        if (d.isZero()) throw new TypeConversionException("duration '" + value + "' is not valid: more than 0");
        return d;
      }
      return new DurationConverter().convert(value);
    }
  }

  /** The per-host migration limit, by the rule {@code cluster up} checks too. */
  static final class MigrationLimitConverter implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return MigrationRules.migrationsPerHost(value);
      } catch (RuleViolation e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
