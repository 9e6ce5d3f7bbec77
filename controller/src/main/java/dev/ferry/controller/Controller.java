package dev.ferry.controller;

import dev.ferry.api.tls.TlsContexts;
import dev.ferry.controller.agents.AgentClient;
import dev.ferry.controller.auth.Credentials;
import dev.ferry.controller.events.EventBus;
import dev.ferry.controller.events.EventRetention;
import dev.ferry.controller.hosts.HostRegistry;
import dev.ferry.controller.hosts.LivenessSweeper;
import dev.ferry.controller.migration.MigrationService;
import dev.ferry.controller.networks.NetworkService;
import dev.ferry.controller.pools.PoolService;
import dev.ferry.controller.rest.RestServer;
import dev.ferry.controller.store.Store;
import dev.ferry.controller.vms.VmService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running controller: store, host registry with its liveness sweeper, services and REST API.
 * {@link #start} wires them in dependency order; {@link #close} stops them in reverse (events
 * first so open SSE streams end, then the sweeper, the HTTP server and the store).
 */
public final class Controller implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Controller.class);

  private final ControllerConfig config;
  private final String token;
  private final Credentials credentials;
  private final Store store;
  private final EventBus events;
  private final EventRetention retention;
  private final LivenessSweeper sweeper;
  private final MigrationService migrations;
  private final dev.ferry.controller.ft.FtService ft;
  private final RestServer rest;
  private boolean closed;

  private Controller(ControllerConfig config, String token, Credentials credentials, Store store, EventBus events,
      EventRetention retention, LivenessSweeper sweeper, MigrationService migrations,
      dev.ferry.controller.ft.FtService ft, RestServer rest) {
    this.config = config;
    this.token = token;
    this.credentials = credentials;
    this.store = store;
    this.events = events;
    this.retention = retention;
    this.sweeper = sweeper;
    this.migrations = migrations;
    this.ft = ft;
    this.rest = rest;
  }

  /** Starts a controller and returns once it accepts requests. */
  public static Controller start(ControllerConfig cfg) {
    try {
      Files.createDirectories(cfg.dataDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create data directory " + cfg.dataDir(), e);
    }
    Store store = Store.open(cfg.dataDir(), cfg.dbUrl(), cfg.dbUser(), cfg.dbPassword());
    Credentials credentials;
    try {
      credentials = Credentials.open(store.credentials(), cfg.dataDir(), cfg.clock());
    } catch (RuntimeException e) {
      store.close();
      throw e;
    }
    String token = credentials.firstToken();
    EventBus events = new EventBus(store.events(), cfg.clock());
    EventRetention retention = new EventRetention(store.events(), cfg.clock(), cfg.limits().eventRetention(),
        cfg.limits().eventMaxCount()).start();
    LivenessSweeper sweeper = null;
    MigrationService migrations = null;
    dev.ferry.controller.ft.FtService ft = null;
    try {
      var tls = cfg.tls();
      AgentClient agents = new AgentClient(credentials.controllerCredential(), tls == null ? null : TlsContexts.client(tls));
      HostRegistry hosts = new HostRegistry(store, events, cfg.clock(), cfg.hostTimeout());
      migrations = new MigrationService(store, hosts, agents, events, cfg.clock(), cfg.maxMigrationsPerHost());
      ft = new dev.ferry.controller.ft.FtService(store, hosts, agents, events, cfg.clock());
      var services = new RestServer.Services(hosts, new PoolService(store, hosts, agents, events),
          new VmService(store, hosts, agents, events, cfg.cpuModel(),
              new dev.ferry.controller.networks.Leases(cfg.dhcpLeases())),
          migrations, events, cfg.limits().sseMaxClients(),
          credentials, store.audit(), cfg.clock(), new NetworkService(store, hosts, events), ft);
      sweeper = new LivenessSweeper(hosts, cfg.hostTimeout());
      RestServer rest = RestServer.start(cfg.listenHost(), cfg.listenPort(), tls == null ? null : TlsContexts.server(tls),
          services);
      Controller c = new Controller(cfg, token, credentials, store, events, retention, sweeper, migrations, ft, rest);
      migrations.recover();
      ft.recover();
      LOG.info("controller listening on {} (data {}, store {}, host timeout {} ms, per-host migration limit {}, {})",
          c.url(), cfg.dataDir(), store.vendor(), cfg.hostTimeout().toMillis(), cfg.maxMigrationsPerHost(),
          cfg.limits());
      return c;
    } catch (RuntimeException e) {
      if (sweeper != null) sweeper.close();
      if (migrations != null) migrations.close();
      if (ft != null) ft.close();
      retention.close();
      events.close();
      store.close();
      throw e;
    }
  }

  /** Base URL, e.g. {@code https://127.0.0.1:7400}. */
  public String url() {
    String host = config.listenHost();
    if (host.contains(":")) host = "[" + host + "]";
    if (host.equals("0.0.0.0") || host.equals("[::]")) host = "127.0.0.1";
    return (config.tlsDir() == null ? "http://" : "https://") + host + ":" + rest.port();
  }

  /** The first admin token (from {@code DATA/token}); null when that file was removed. */
  public String token() {
    return token;
  }

  /** The secret the controller shows agents; tests' fake agents check it. */
  public String agentCallCredential() {
    return credentials.controllerCredential();
  }

  public int port() {
    return rest.port();
  }

  /** Every registered route as {@code METHOD path}; the OpenAPI test compares these with the document. */
  public List<String> routes() {
    return rest.routes();
  }

  /** Prunes the event journal now by the configured limits; returns the highest id pruned, or 0. */
  long pruneEvents() {
    return retention.pruneNow();
  }

  /** Stored events after {@code id}, oldest first; tests read histories with it. */
  List<dev.ferry.api.Event> eventsAfter(long id) {
    return events.after(id, 10_000);
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    events.close();
    retention.close();
    sweeper.close();
    migrations.close();
    ft.close();
    rest.close();
    store.close();
    LOG.info("controller on {} stopped", config.dataDir());
  }
}
