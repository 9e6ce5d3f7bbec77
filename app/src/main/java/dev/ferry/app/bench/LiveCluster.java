package dev.ferry.app.bench;

import dev.ferry.agent.Agent;
import dev.ferry.agent.AgentConfig;
import dev.ferry.api.HostState;
import dev.ferry.api.HostView;
import dev.ferry.api.Json;
import dev.ferry.api.auth.HostCredential;
import dev.ferry.api.auth.SecretFile;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.controller.Controller;
import dev.ferry.controller.ControllerConfig;
import java.nio.file.Path;
import java.util.List;

/**
 * The live benchmark's cluster, all in this process: a real controller (SQLite in the work
 * directory) and two real agents enrolled with it as {@code ferry cluster up} does ({@code ferry
 * host enroll}, then the agent runs with that credential), and the pool {@code shared} created
 * through the controller on both. Plain HTTP and migration streams in clear on loopback: with
 * TLS the controller's runs would pay for encryption the direct agent calls do not.
 *
 * <p>The bench's direct agent calls ({@code raw}, {@code ferry-params}) use the controller's own
 * agent credential, as the controller would. The controller keeps to the VMs it created: a
 * heartbeat's unknown VMs change nothing in its store.
 */
final class LiveCluster implements AutoCloseable {

  static final String A = "bench-a";
  static final String B = "bench-b";

  final Controller controller;
  final FerryCli ferry;
  final Agent agentA;
  final Agent agentB;
  /** the agents, called directly with the controller's credential */
  final HostAgent a;
  final HostAgent b;

  private LiveCluster(Controller controller, FerryCli ferry, Agent agentA, Agent agentB) {
    this.controller = controller;
    this.ferry = ferry;
    this.agentA = agentA;
    this.agentB = agentB;
    this.a = AgentHttp.of(agentA.url(), controller.agentCallCredential());
    this.b = AgentHttp.of(agentB.url(), controller.agentCallCredential());
  }

  /** Starts it all and returns once both hosts are online and {@code shared} (at {@code shared}) is on both. */
  static LiveCluster start(Path work, Path shared) throws Exception {
    Controller controller = Controller.start(ControllerConfig.loopback(work.resolve("controller"), null));
    Agent agentA = null;
    try {
      FerryCli ferry = new FerryCli(controller.url(), controller.token(), work);
      agentA = agent(ferry, work, A, controller.url());
      Agent agentB = agent(ferry, work, B, controller.url());
      LiveCluster c = new LiveCluster(controller, ferry, agentA, agentB);
      c.awaitOnline();
      ferry.run("pool", "create", "shared", "--host", A, "--path", shared.toString(), "--shared");
      return c;
    } catch (Exception | Error e) {
      if (agentA != null) agentA.close();
      controller.close();
      throw e;
    }
  }

  private static Agent agent(FerryCli ferry, Path work, String name, String controllerUrl) {
    return agent(ferry, work, name, controllerUrl, null);
  }

  /** An agent enrolled as {@code ferry cluster up} enrolls one; {@code ftQemu} the QEMU it probes first for FT (or null). */
  static Agent agent(FerryCli ferry, Path work, String name, String controllerUrl, Path ftQemu) {
    Path file = work.resolve(name + ".credential");
    ferry.run("host", "enroll", name, "--credential-file", file.toString());
    HostCredential c;
    try {
      c = Json.answers().readValue(SecretFile.read(file), HostCredential.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("the credential of " + name + " in " + file + " is unreadable: " + e.getMessage(), e);
    }
    return Agent.start(new AgentConfig(name, "127.0.0.1", 0, work.resolve(name), controllerUrl, c.credential(), null,
        null, null, null, List.of(work), null, null, c.controllerCredentialSha256(), null, null, ftQemu));
  }

  private void awaitOnline() throws InterruptedException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (true) {
      HostView[] hosts = ferry.json(HostView[].class, "host", "list");
      if (java.util.Arrays.stream(hosts).filter(h -> h.state() == HostState.ONLINE).count() == 2) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("hosts not online within 60 s: " + java.util.Arrays.toString(hosts));
      }
      Thread.sleep(200);
    }
  }

  /** The console log of {@code vm} on the host whose agent keeps its files under {@code host}. */
  static Path console(Path work, String host, String vm) {
    return work.resolve(host).resolve("vms").resolve(vm).resolve("run/console.log");
  }

  @Override
  public void close() {
    try {
      agentA.close();
    } finally {
      try {
        agentB.close();
      } finally {
        controller.close();
      }
    }
  }
}
