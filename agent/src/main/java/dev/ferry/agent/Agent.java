package dev.ferry.agent;

import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.ft.FtBinaries;
import dev.ferry.agent.ft.FtProbes;
import dev.ferry.agent.host.Heartbeats;
import dev.ferry.agent.host.HostResources;
import dev.ferry.agent.http.AgentApi;
import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.pool.Volumes;
import dev.ferry.agent.qemu.Accelerator;
import dev.ferry.agent.qemu.AcceleratorChoice;
import dev.ferry.agent.qemu.AcceleratorProbe;
import dev.ferry.agent.qemu.HostCpu;
import dev.ferry.agent.qemu.QemuInstallation;
import dev.ferry.agent.qemu.QemuUser;
import dev.ferry.agent.qemu.qmp.QemuTlsCopy;
import dev.ferry.agent.qemu.qmp.StreamTls;
import dev.ferry.agent.migration.Migrations;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.LogRotation;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.tls.TlsContexts;
import dev.ferry.api.tls.TlsDir;
import dev.ferry.api.tls.TlsException;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running agent: the HTTP API, the heartbeats, and the VMs it watches.
 *
 * <p>Start order matters: the QEMU facts first (accelerator, version), then pools, then VMs
 * (re-adopting live QEMUs before the API can accept actions on them), then the API, then the
 * heartbeats, which report the state the API serves. {@link #close()} stops the API and the
 * heartbeats and drops the QMP connections, but never stops a QEMU: to the guests an agent
 * restart looks like nothing, and the next agent adopts them.
 */
public final class Agent implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final AgentConfig config;
  private final Vms vms;
  /** caps every VM's console and QEMU log */
  private final LogRotation logs;
  private final AgentApi api;
  private final Heartbeats heartbeats;
  /** the COLO probes of the QEMU binaries, run in the background */
  private final FtProbes ft;
  /** the COLO pairs this host is primary or secondary of */
  private final AgentApi.Ft ftPairs;
  private final String url;

  private Agent(AgentConfig config, Vms vms, AgentApi api, Heartbeats heartbeats, FtProbes ft, AgentApi.Ft ftPairs,
      String url) {
    this.config = config;
    this.logs = new LogRotation(config.dataDir().resolve("vms"), config.logCaps()).start();
    this.vms = vms;
    this.api = api;
    this.heartbeats = heartbeats;
    this.ft = ft;
    this.ftPairs = ftPairs;
    this.url = url;
  }

  public static Agent start(AgentConfig config) {
    Path data = config.dataDir();
    try {
      Files.createDirectories(data.resolve("vms"));
      Files.createDirectories(data.resolve("cache"));
    } catch (IOException e) {
      throw new AgentException(Kind.INTERNAL, "cannot create data directory " + data + ": " + e.getMessage(), e);
    }
    TlsDir tls = config.tls();
    SSLContext serverTls;
    SSLContext clientTls;
    try {
      serverTls = tls == null ? null : TlsContexts.server(tls);
      clientTls = tls == null ? null : TlsContexts.client(tls);
    } catch (TlsException e) {
      throw new AgentException(Kind.INVALID, e.getMessage(), e);
    }
    QemuInstallation qemu = QemuInstallation.detect();
    QemuUser qemuUser = QemuUser.resolve(config.qemuUser());
    AcceleratorChoice choice = new AcceleratorProbe(qemu, qemuUser).choose(config.accel());
    Accelerator accel = choice.accelerator();
    HostCpu cpu = HostCpu.detect(qemu, accel);
    HostResources resources = HostResources.detect(config.cpus(), config.memoryBytes());
    var host = new QemuHost(qemu, accel, qemuUser);
    Pools pools = Pools.load(data, config.name(), config.roots(), qemuUser);
    String unreachable = qemuUser.unreachable(data.resolve("vms"));
    if (unreachable != null) {
      throw new AgentException(Kind.INVALID, "data directory " + data + " holds the run directories of the VMs, but " + unreachable);
    }
    String postcopy = qemuUser.postcopyProblem();
    if (postcopy != null) log.warn("post-copy migrations to this host will be refused: {}", postcopy);
    Vms vms = Vms.load(data, config.name(), pools, host);
    var volumes = new Volumes(pools, qemu.imgBinary(), vms::inUse);
    var moves = new StorageMoves(vms, pools, qemu.imgBinary());
    vms.guardStarts(moves::checkStart);
    StreamTls streamTls = tls == null ? StreamTls.OFF : new StreamTls(QemuTlsCopy.of(tls, data, qemuUser));
    var migrations = Migrations.start(data, vms, pools, host, AdvertisedAddress.of(config.listenHost()),
        config.migrationPorts(), streamTls);

    Path daemon = qemu.imgBinary().resolveSibling("qemu-storage-daemon");
    var imageHashes = new dev.ferry.agent.cold.ImageHashes(daemon, qemu.imgBinary());
    Path tlsPath = tls == null ? null : tls.dir();
    var coldExports = new dev.ferry.agent.cold.ColdExports(data, vms, daemon, AdvertisedAddress.of(config.listenHost()),
        config.migrationPorts(), tlsPath, imageHashes);
    vms.guardActions(coldExports::checkAction);
    var cold = new AgentApi.Cold(coldExports,
        new dev.ferry.agent.cold.ColdCopies(data, pools, vms, daemon, qemu.imgBinary(), tlsPath, imageHashes));
    var warmSources = new dev.ferry.agent.warm.WarmSources(data, vms, config.name(),
        AdvertisedAddress.of(config.listenHost()), config.migrationPorts(), streamTls, tlsPath, imageHashes);
    vms.guardActions(warmSources::checkAction);
    var warm = new AgentApi.Warm(warmSources,
        new dev.ferry.agent.warm.WarmCopies(data, pools, vms, daemon, qemu.imgBinary(), tlsPath, imageHashes));

    // cached findings at once, new binaries probed in the background: stock QEMU 7.2 deadlocks in COLO.
    // Only after every start check: an agent that refuses to start must leave no probe QEMU behind.
    var ftBinaries = FtBinaries.candidates(qemu.systemBinary(), config.ftQemu(), FtBinaries.defaultBuildCache());
    FtProbes ft = "off".equals(System.getenv("FERRY_FT_PROBE"))
        ? FtProbes.notProbed(ftBinaries, "FERRY_FT_PROBE=off")
        : FtProbes.start(ftBinaries, data, accel, qemuUser);
    host.ft().probedBy(ft::view);
    var ftPorts = new dev.ferry.agent.migration.ListenPorts(AdvertisedAddress.of(config.listenHost()), config.migrationPorts());
    var ftPairs = new AgentApi.Ft(new dev.ferry.agent.ftpair.FtPrimaries(vms, java.time.InstantSource.system()),
        new dev.ferry.agent.ftpair.FtSecondaries(data, pools, vms, host, AdvertisedAddress.of(config.listenHost()), ftPorts)
            .load());

    var urlHolder = new String[1];
    java.util.function.Supplier<AgentHeartbeat> info = () -> new AgentHeartbeat(config.name(), urlHolder[0],
        resources.cpus(), resources.memoryBytes(), qemu.version().toString(),
        accel.name().toLowerCase(java.util.Locale.ROOT), pools.views(), vms.list(), choice.probe(), cpu.flags(),
        cpu.usableModels(), dev.ferry.agent.net.Bridges.list(), ft.view(), machineNames(qemu),
        host.user().postcopyProblem() == null);
    AgentApi api;
    try {
      api = AgentApi.start(config.listenHost(), config.listenPort(), config.controllerCredentialSha256(),
          serverTls, new AgentApi.Services(pools, volumes, vms, moves, info, migrations, cold, warm, ftPairs));
    } catch (RuntimeException e) {
      vms.detachAll();
      ftPairs.secondaries().detachAll();
      ftPairs.primaries().close();
      ft.close();
      throw new AgentException(Kind.UNAVAILABLE, "cannot listen on " + config.listenHost() + ":" + config.listenPort()
          + ": " + e.getMessage(), e);
    }
    urlHolder[0] = (tls == null ? "http://" : "https://") + AdvertisedAddress.forUrl(AdvertisedAddress.of(config.listenHost())) + ":" + api.port();
    var heartbeats = new Heartbeats(config.controller(), config.token(), clientTls,
        config.heartbeatInterval(), info).start();
    log.info("agent {} listening on {} (data {}, qemu {} as user {}, {}, {} cpus, {} MiB, {} vms, migration ports {},"
        + " streams {})", config.name(), urlHolder[0], data, qemu.version(), qemuUser.name(),
        accel.name().toLowerCase(java.util.Locale.ROOT), resources.cpus(), resources.memoryBytes() >> 20,
        vms.list().size(), config.migrationPorts(), tls == null ? "in clear" : "tls");
    return new Agent(config, vms, api, heartbeats, ft, ftPairs, urlHolder[0]);
  }

  /** The base URL of the API, as heartbeats advertise it. */
  public String url() {
    return url;
  }

  public AgentConfig config() {
    return config;
  }

  /** Stops serving and heartbeating; every QEMU keeps running. */
  @Override
  public void close() {
    logs.close();
    heartbeats.close();
    ft.close();
    api.close();
    ftPairs.primaries().close();
    ftPairs.secondaries().detachAll();
    vms.detachAll();
    log.info("agent {} stopped; its vms keep running", config.name());
  }

  /** The first word of each line of {@code -machine help}: versioned names and aliases alike. */
  private static java.util.List<String> machineNames(QemuInstallation qemu) {
    return qemu.machineTypes().stream().map(l -> l.split("\\s+")[0]).filter(n -> !n.isEmpty()).toList();
  }
}
