package dev.ferry.controller.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller's durable state: SQLite in the data directory by default, PostgreSQL when given
 * a JDBC URL. The schema is migrated by Flyway on open from {@code db/migration/common} (portable
 * SQL) plus {@code db/migration/<vendor>} for the few statements the two spell differently.
 *
 * <p>SQLite runs in WAL mode with a busy timeout behind a pool of ONE connection: SQLite allows a
 * single writer, and one connection turns lock contention into queueing in the pool instead of
 * {@code SQLITE_BUSY} errors. Callers therefore never nest handles and never hold one across a
 * remote call.
 *
 * <p>{@code synchronous=NORMAL}, the setting SQLite recommends with WAL: a commit is flushed to disk
 * at checkpoints, not one by one. With FULL every heartbeat's write, event and migration step
 * waited for its own disk flush while holding the one connection, so reads queued behind flushes;
 * on a loaded machine a heartbeat took seconds and hosts flapped ({@code ferry bench load}:
 * heartbeat and {@code GET /api/vms} medians 470 and 496 ms with FULL, 49 and 41 ms with NORMAL,
 * side by side). The database stays consistent after any crash; what a power loss of the
 * controller's machine may lose is the last commits, which the agents still hold and report.
 */
public final class Store implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Store.class);

  private final HikariDataSource dataSource;
  private final String vendor;
  private final HostStore hosts;
  private final PoolStore pools;
  private final NetworkStore networks;
  private final VmStore vms;
  private final EventStore events;
  private final MigrationStore migrations;
  private final java.util.concurrent.atomic.LongAdder statements = new java.util.concurrent.atomic.LongAdder();
  private final CredentialStore credentials;
  private final AuditStore audit;
  private final FtStore ft;

  private Store(HikariDataSource dataSource, String vendor) {
    this.dataSource = dataSource;
    this.vendor = vendor;
    Jdbi jdbi = Jdbi.create(dataSource);
    jdbi.setSqlLogger(new org.jdbi.v3.core.statement.SqlLogger() {
      @Override
      public void logAfterExecution(org.jdbi.v3.core.statement.StatementContext ctx) {
        statements.increment();
      }
    });
    this.hosts = new HostStore(jdbi);
    this.pools = new PoolStore(jdbi);
    this.networks = new NetworkStore(jdbi);
    this.vms = new VmStore(jdbi);
    this.events = new EventStore(jdbi);
    this.migrations = new MigrationStore(jdbi);
    this.credentials = new CredentialStore(jdbi);
    this.audit = new AuditStore(jdbi);
    this.ft = new FtStore(jdbi);
  }

  /** Opens (and migrates) SQLite at {@code dataDir/ferry.db}, or {@code url} when it is not null. */
  public static Store open(Path dataDir, String url, String user, String password) {
    String jdbcUrl = url != null ? url : "jdbc:sqlite:" + dataDir.resolve("ferry.db").toAbsolutePath();
    String vendor = vendorOf(jdbcUrl);
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(jdbcUrl);
    hc.setPoolName("ferry-store");
    if (user != null) hc.setUsername(user);
    if (password != null) hc.setPassword(password);
    if (vendor.equals("sqlite")) {
      hc.setMaximumPoolSize(1);
      hc.addDataSourceProperty("journal_mode", "WAL");
      hc.addDataSourceProperty("synchronous", "NORMAL");
      hc.addDataSourceProperty("busy_timeout", "5000");
      hc.addDataSourceProperty("foreign_keys", "true");
    } else {
      hc.setMaximumPoolSize(8);
    }
    HikariDataSource ds = new HikariDataSource(hc);
    try {
      Flyway flyway = Flyway.configure()
          .dataSource(ds)
          .locations("classpath:db/migration/common", "classpath:db/migration/" + vendor)
          .load();
      int applied = flyway.migrate().migrationsExecuted;
      LOG.info("store {} at schema version {} ({} migrations applied now)", vendor,
          flyway.info().current().getVersion(), applied);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new Store(ds, vendor);
  }

  static String vendorOf(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:sqlite:")) return "sqlite";
    if (jdbcUrl.startsWith("jdbc:postgresql:")) return "postgresql";
    throw new IllegalArgumentException("database url '" + jdbcUrl
        + "' is not supported: use jdbc:sqlite:FILE or jdbc:postgresql://HOST:PORT/DB");
  }

  /** How many SQL statements ran since the store opened: how tests see what a code path costs. */
  public long statements() {
    return statements.sum();
  }

  /** {@code sqlite} or {@code postgresql}. */
  public String vendor() {
    return vendor;
  }

  public HostStore hosts() {
    return hosts;
  }

  public PoolStore pools() {
    return pools;
  }

  public NetworkStore networks() {
    return networks;
  }

  public VmStore vms() {
    return vms;
  }

  public EventStore events() {
    return events;
  }

  public MigrationStore migrations() {
    return migrations;
  }

  public CredentialStore credentials() {
    return credentials;
  }

  public FtStore ft() {
    return ft;
  }

  public AuditStore audit() {
    return audit;
  }

  @Override
  public void close() {
    dataSource.close();
  }
}
