package dev.ferry.agent;

import dev.ferry.agent.migration.PortRange;
import dev.ferry.agent.qemu.AccelMode;
import dev.ferry.api.Durations;
import dev.ferry.api.Sizes;
import dev.ferry.api.StartupFailure;
import java.io.IOException;
import dev.ferry.api.Json;
import dev.ferry.api.auth.HostCredential;
import dev.ferry.api.auth.SecretFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code ferry agent}: the daemon of one host. Runs until SIGTERM or SIGINT; on the way out it
 * stops its API and heartbeats but leaves every QEMU running, for the next agent to adopt.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = "Runs the host agent: owns this host's QEMU processes and storage pools.")
public final class AgentCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  /** Read by {@code dev.ferry.app.Main} before parsing (its settings are this command's defaults); here for --help. */
  @Option(names = "--config", paramLabel = "FILE",
      description = "settings file: one 'key = value' per line, keys are these options' names without '--'"
          + " (e.g. /etc/ferry/agent.conf); flags override it")
  java.nio.file.Path configFile;

  @Option(names = "--name", required = true, description = "host name (lower-case letters, digits, -)")
  String name;

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT", description = "address of the agent's API")
  String listen;

  @Option(names = "--data", required = true, paramLabel = "DIR", description = "state directory (pools.json, vms/, cache/)")
  Path data;

  @Option(names = "--controller", required = true, paramLabel = "URL", description = "controller base URL for heartbeats")
  String controller;

  @Option(names = "--credential-file", required = true, paramLabel = "FILE",
      description = "this host's credential (mode 0600), written by 'ferry host enroll NAME --credential-file FILE'")
  Path credentialFile;

  @Option(names = "--heartbeat-interval", paramLabel = "DURATION", defaultValue = "2s",
      description = "time between heartbeats, e.g. 2s or 500ms (a unit is required; default: ${DEFAULT-VALUE})")
  String heartbeatInterval;

  @Option(names = "--memory", paramLabel = "SIZE", description = "memory offered to guests (default: the machine's)")
  String memory;

  @Option(names = "--cpus", paramLabel = "N", description = "cpus offered to guests (default: the machine's)")
  Integer cpus;

  @Option(names = "--pool-root", paramLabel = "DIR",
      description = "a directory pools may be created under; repeatable (default: /var/lib/ferry and the --data directory)")
  List<Path> poolRoots;

  @Option(names = "--log-max-size", paramLabel = "SIZE", defaultValue = "16M",
      description = "a VM's console or QEMU log past this size is rotated (default: ${DEFAULT-VALUE})")
  String logMaxSize;

  @Option(names = "--log-keep", paramLabel = "N", defaultValue = "3",
      description = "rotated copies kept of each VM log, 0-100 (default: ${DEFAULT-VALUE})")
  int logKeep;

  @Option(names = "--accel", paramLabel = "auto|kvm|tcg", defaultValue = "auto",
      description = "accelerator: auto takes KVM when a guest really runs under it here, else TCG; kvm refuses to start"
          + " without it; tcg never probes (default: ${DEFAULT-VALUE})")
  String accel;

  @Option(names = "--tls", paramLabel = "DIR",
      description = "the host's TLS directory (ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem,"
          + " client-key.pem; made by 'ferry ca issue'): the API is then HTTPS only and needs a client certificate"
          + " from the cluster CA, and migration and NBD streams to and from other hosts are TLS, letting in only the peer"
          + " host's certificate")
  Path tls;

  @Option(names = "--qemu-user", paramLabel = "USER",
      description = "the user QEMU runs as when the agent is root (default: ferry-qemu); an agent that is not root runs QEMU as itself")
  String qemuUser;

  @Option(names = "--migration-ports", paramLabel = "FIRST-LAST", defaultValue = "49152-49215",
      description = "ports this host's QEMUs listen on for other hosts: migration streams, NBD for copied disks,"
          + " post-copy recovery; open them between the hosts (default: ${DEFAULT-VALUE})")
  String migrationPorts;

  @Option(names = "--ft-qemu", paramLabel = "PATH",
      description = "QEMU binary for fault tolerance, probed by a COLO self-test (default: the newest build of"
          + " ft-qemu/build-qemu.sh in ~/.cache/ferry/qemu, if any; the system QEMU is probed too)")
  Path ftQemu;

  @Override
  public Integer call() throws InterruptedException {
    AgentConfig config = config();
    Agent agent;
    try {
      agent = Agent.start(config);
    } catch (RuntimeException e) {
      throw StartupFailure.of("agent " + config.name(), e);
    }
    var done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      agent.close();
      done.countDown();
    }, "ferry-agent-shutdown"));
    done.await();
    return 0;
  }

  /** Every option checked before anything starts, so a typo is a usage error (exit 2). */
  AgentConfig config() {
    int colon = listen.lastIndexOf(':');
    if (colon <= 0) throw usage("--listen '" + listen + "' is not valid: HOST:PORT, e.g. 127.0.0.1:7101");
    String host = listen.substring(0, colon).replace("[", "").replace("]", "");
    int port;
    try {
      port = Integer.parseInt(listen.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw usage("--listen '" + listen + "' has no valid port: HOST:PORT, e.g. 127.0.0.1:7101");
    }
    if (ftQemu != null && !java.nio.file.Files.isExecutable(ftQemu)) {
      throw usage("--ft-qemu " + ftQemu + " is not an executable file");
    }
    try {
      Long memoryBytes = memory == null ? null : Sizes.parse("--memory", memory);
      HostCredential credential = credential();
      return new AgentConfig(name, host, port, data, controller, credential.credential(),
          Durations.parse("--heartbeat-interval", heartbeatInterval), cpus, memoryBytes, AccelMode.parse(accel), poolRoots,
          new dev.ferry.agent.vm.LogCaps(Sizes.parse("--log-max-size", logMaxSize), logKeep), tls(),
          credential.controllerCredentialSha256(), qemuUser, PortRange.parse(migrationPorts), ftQemu);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
  }

  /** The TLS directory, checked for its files now so a typo is a usage error and not a failed handshake later. */
  private Path tls() {
    if (tls == null) return null;
    var dir = new dev.ferry.api.tls.TlsDir(tls);
    for (Path f : List.of(dir.caCert(), dir.serverCert(), dir.serverKey(), dir.clientCert(), dir.clientKey())) {
      if (!Files.isRegularFile(f)) throw usage("--tls " + tls + " has no " + f.getFileName() + " (make it with 'ferry ca issue')");
    }
    return dir.dir();
  }

  /** The enrolment file: mode 0600, for this host, naming the controller credential's hash. */
  private HostCredential credential() {
    HostCredential c;
    try {
      c = Json.answers().readValue(SecretFile.read(credentialFile), HostCredential.class);
    } catch (SecretFile.Refused e) {
      throw usage("--credential-file: " + e.getMessage());
    } catch (IOException e) {
      throw usage("--credential-file " + credentialFile + " is not a host credential written by 'ferry host enroll': "
          + e.getMessage());
    }
    if (c.credential() == null || c.controllerCredentialSha256() == null) {
      throw usage("--credential-file " + credentialFile + " lacks credential or controller_credential_sha256;"
          + " write it again with 'ferry host enroll " + name + " --credential-file FILE'");
    }
    if (!name.equals(c.host())) {
      throw usage("--credential-file " + credentialFile + " is host '" + c.host() + "'s credential, not '" + name
          + "'s: each host has its own ('ferry host enroll " + name + "')");
    }
    return c;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
