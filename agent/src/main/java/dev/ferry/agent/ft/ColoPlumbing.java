package dev.ferry.agent.ft;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.agent.qemu.DiskSpec;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.block.BlockDeviceInfo;
import dev.ferry.qmp.block.BlockJobCancel;
import dev.ferry.qmp.block.BlockdevAdd;
import dev.ferry.qmp.block.BlockdevDel;
import dev.ferry.qmp.block.BlockdevMirror;
import dev.ferry.qmp.block.QueryBlockJobs;
import dev.ferry.qmp.block.QueryNamedBlockNodes;
import dev.ferry.qmp.colo.HumanMonitorCommand;
import dev.ferry.qmp.colo.QueryColoStatus;
import dev.ferry.qmp.colo.XBlockdevChange;
import dev.ferry.qmp.colo.XColoLostHeartbeat;
import dev.ferry.qmp.export.BlockExportAdd;
import dev.ferry.qmp.export.NbdServerStart;
import dev.ferry.qmp.export.NbdServerStop;
import dev.ferry.qmp.machine.Cont;
import dev.ferry.qmp.machine.QueryStatus;
import dev.ferry.qmp.machine.Stop;
import dev.ferry.qmp.migration.Migrate;
import dev.ferry.qmp.migration.MigrateIncoming;
import dev.ferry.qmp.migration.MigrateSetCapabilities;
import dev.ferry.qmp.migration.MigrateSetParameters;
import dev.ferry.qmp.migration.QueryMigrate;
import dev.ferry.api.agent.FtNicPorts;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The QMP sequences of a COLO pair (colo.md): disks here, each NIC's network proxy in
 * {@link ColoNics}, called at the right step of each sequence. Each one
 * names what it was doing when QEMU refused, and every call has a deadline: a patched primary
 * holds its main loop for a checkpoint's RAM send (~50 ms here), far below {@link #CALL}.
 *
 * <p>The secondary's replica starts empty and is filled by a mirror from the primary's quorum over
 * NBD to the replica's export (the same sequence that re-protects a survivor): the primary runs
 * on while it copies, and pauses only from the mirror's ready state to COLO's first checkpoint.
 */
public final class ColoPlumbing {

  private static final Logger log = LoggerFactory.getLogger(ColoPlumbing.class);
  static final Duration CALL = Duration.ofSeconds(10);
  static final String X_COLO = "x-colo";

  private ColoPlumbing() {}

  /**
   * On the secondary (started with {@code -incoming defer} and the {@link ColoDisks#secondary}
   * layout): COLO capability, an NBD server exporting every replica writable, each NIC's side of
   * the network proxy, then listening for the primary's migration.
   */
  public static void listen(QmpClient q, List<DiskSpec> disks, List<FtNicPorts> nics, String host, int nbdPort,
      int migrationPort) {
    step("secondary: set up COLO", () -> {
      q.call(new MigrateSetCapabilities(Map.of(X_COLO, true)), CALL);
      ColoNics.secondary(q, host, nics);
      q.call(NbdServerStart.tcp(host, nbdPort), CALL);
      for (DiskSpec d : disks) {
        q.call(new BlockExportAdd("ft-" + d.id(), d.formatNode(), ColoDisks.export(d.id()), true), CALL);
      }
      q.call(new MigrateIncoming("tcp:" + host + ":" + migrationPort), CALL);
    });
  }

  /** On the primary: one mirror per disk from its quorum to the secondary's export; returns once all are ready. */
  public static void sync(QmpClient q, List<DiskSpec> disks, String host, int nbdPort, Duration timeout)
      throws InterruptedException {
    step("primary: start the disk sync", () -> {
      for (DiskSpec d : disks) {
        var nbd = new LinkedHashMap<String, Object>();
        nbd.put("driver", "nbd");
        nbd.put("node-name", syncNode(d));
        nbd.put("server", Map.of("type", "inet", "host", host, "port", Integer.toString(nbdPort)));
        nbd.put("export", ColoDisks.export(d.id()));
        q.call(new BlockdevAdd(nbd), CALL);
        q.call(new BlockdevMirror(syncNode(d), ColoDisks.quorum(d.id()), syncNode(d), BlockdevMirror.Sync.FULL,
            BlockdevMirror.CopyMode.BACKGROUND, true), CALL);
      }
    });
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<QueryBlockJobs.BlockJobInfo> jobs = get("primary: watch the disk sync", () -> q.call(new QueryBlockJobs(), CALL));
      long ready = jobs.stream().filter(j -> j.device().endsWith("-sync") && j.ready()).count();
      for (var j : jobs) {
        if (j.error().isPresent()) throw failed("primary: the disk sync of " + j.device() + " failed: " + j.error().get());
      }
      if (ready == disks.size()) return;
      if (jobs.stream().noneMatch(j -> j.device().endsWith("-sync"))) {
        throw failed("primary: the disk sync ended before it was ready (the secondary's export went away?)");
      }
      if (System.nanoTime() > until) throw failed("primary: the disk sync was not ready within " + timeout.toSeconds() + " s");
      Thread.sleep(100);
    }
  }

  /**
   * On the primary, once {@link #sync} is ready: pause, keep the complete copy (cancel the ready
   * mirrors), add the replication child of each quorum and each NIC's network proxy (its local
   * sockets in {@code run}), and start COLO; COLO resumes the guest. Returns how long the guest
   * was paused until COLO ran.
   */
  public static Duration protect(QmpClient q, List<DiskSpec> disks, List<FtNicPorts> nics, Path run, String host,
      int nbdPort, int migrationPort, int checkpointMs, Duration timeout) throws InterruptedException {
    long t0 = System.nanoTime();
    step("primary: pause and keep the synced copy", () -> {
      q.call(new Stop(), CALL);
      for (DiskSpec d : disks) q.call(new BlockJobCancel(syncNode(d)), CALL);
    });
    awaitNoSyncJob(q, timeout);
    step("primary: add the replication children and start COLO", () -> {
      for (DiskSpec d : disks) {
        q.call(new BlockdevDel(syncNode(d)), CALL);
        String said = q.call(new HumanMonitorCommand(ColoDisks.buddyDriveAdd(d, host, nbdPort)), CALL);
        if (!said.isEmpty()) throw failed("primary: drive_add of " + ColoDisks.buddy(d.id()) + ": " + said);
        q.call(XBlockdevChange.add(ColoDisks.quorum(d.id()), ColoDisks.buddy(d.id())), CALL);
      }
    });
    step("primary: build the network proxy and start COLO", () -> {
      ColoNics.primary(q, run, host, nics);
      q.call(new MigrateSetCapabilities(Map.of(X_COLO, true)), CALL);
      q.call(new MigrateSetParameters(Map.of("x-checkpoint-delay", checkpointMs)), CALL);
      q.call(new Migrate("tcp:" + host + ":" + migrationPort), CALL);
    });
    long until = System.nanoTime() + timeout.toNanos();
    while (true) {
      QueryMigrate.MigrationInfo m = get("primary: watch COLO start", () -> q.call(new QueryMigrate(), CALL));
      if (m.status().equals("colo")) return Duration.ofNanos(System.nanoTime() - t0);
      if (m.status().equals("failed") || m.status().equals("cancelled")) {
        throw failed("primary: the COLO migration " + m.status() + m.errorDesc().map(e -> ": " + e).orElse(""));
      }
      if (System.nanoTime() > until) throw failed("primary: COLO did not start within " + timeout.toSeconds() + " s");
      Thread.sleep(20);
    }
  }

  /**
   * On the primary: back to a plain VM whatever step protection reached. Drops the replication
   * children and the network proxy of its {@code nics} NICs, ends COLO ({@code x-colo-lost-heartbeat}, as when the secondary dies), cancels a
   * sync still under way, and resumes a guest left paused. Idempotent: it looks before each step.
   */
  public static void unprotect(QmpClient q, List<DiskSpec> disks, int nics, Duration timeout)
      throws InterruptedException {
    boolean colo = get("primary: read COLO state", () -> q.call(new QueryColoStatus(), CALL)).mode().equals("primary");
    List<String> nodes = get("primary: list block nodes", () -> q.call(new QueryNamedBlockNodes(), CALL)).stream()
        .map(BlockDeviceInfo::nodeName).toList();
    for (DiskSpec d : disks) {
      String buddy = ColoDisks.buddy(d.id());
      if (nodes.contains(buddy)) {
        step("primary: remove the replication child of " + d.id(), () -> {
          q.call(XBlockdevChange.remove(ColoDisks.quorum(d.id()), "children.1"), CALL);
          String said = q.call(new HumanMonitorCommand("drive_del " + buddy), CALL);
          if (!said.isEmpty()) log.warn("drive_del {}: {}", buddy, said);
        });
      }
    }
    step("primary: remove the network proxy", () -> ColoNics.dropPrimary(q, nics));
    if (colo) {
      step("primary: end COLO", () -> q.call(new XColoLostHeartbeat(), CALL));
      long until = System.nanoTime() + timeout.toNanos();
      while (!get("primary: watch COLO end", () -> q.call(new QueryColoStatus(), CALL)).mode().equals("none")) {
        if (System.nanoTime() > until) throw failed("primary: COLO did not end within " + timeout.toSeconds() + " s");
        Thread.sleep(20);
      }
    }
    step("primary: cancel a disk sync", () -> {
      for (var j : q.call(new QueryBlockJobs(), CALL)) {
        if (j.device().endsWith("-sync")) q.call(new BlockJobCancel(j.device(), true), CALL);
      }
    });
    awaitNoSyncJob(q, timeout);
    step("primary: drop the sync nodes and the COLO capability", () -> {
      List<String> now = q.call(new QueryNamedBlockNodes(), CALL).stream().map(BlockDeviceInfo::nodeName).toList();
      for (DiskSpec d : disks) if (now.contains(syncNode(d))) q.call(new BlockdevDel(syncNode(d)), CALL);
      // a later live migration must not carry COLO's capability
      q.call(new MigrateSetCapabilities(Map.of(X_COLO, false)), CALL);
      if (!q.call(new QueryStatus(), CALL).running()) q.call(new Cont(), CALL);
    });
  }

  /**
   * On the secondary, when its primary is gone (dead, fenced, or switched off for a planned
   * failover): the NBD server goes (the old primary can no longer write the replica), COLO fails
   * over ({@code x-colo-lost-heartbeat}; the replication driver commits the active and hidden
   * overlays into the replica, the chain collapses to quorum, replication, replica), the guest's
   * {@code nics} NICs leave the proxy for their own taps, and the guest runs on from its own
   * state, same boot. Idempotent: a secondary already out of COLO is only made sure to run.
   * Returns when it runs; its taps are the caller's to put on their bridges.
   */
  public static void takeover(QmpClient q, int nics, Duration timeout) throws InterruptedException {
    var st = get("secondary: read COLO state", () -> q.call(new QueryColoStatus(), CALL));
    if (st.mode().equals("secondary")) {
      try {
        q.call(new NbdServerStop(), CALL);
      } catch (QmpErrorException e) {
        log.debug("nbd-server-stop: {}", e.getMessage()); // none running: a repeat
      } catch (QmpException e) {
        throw new AgentException(Kind.UNAVAILABLE, "secondary: stop the nbd server: " + e.getMessage(), e);
      }
      step("secondary: fail over (x-colo-lost-heartbeat)", () -> q.call(new XColoLostHeartbeat(), CALL));
    }
    long until = System.nanoTime() + timeout.toNanos();
    while (!get("secondary: watch the failover", () -> q.call(new QueryColoStatus(), CALL)).mode().equals("none")) {
      if (System.nanoTime() > until) throw failed("secondary: COLO failover did not end within " + timeout.toMillis() + " ms");
      Thread.sleep(5);
    }
    step("secondary: leave the network proxy", () -> ColoNics.dropSecondary(q, nics));
    step("secondary: run the guest", () -> {
      if (!q.call(new QueryStatus(), CALL).running()) q.call(new Cont(), CALL);
    });
  }

  private static void awaitNoSyncJob(QmpClient q, Duration timeout) throws InterruptedException {
    long until = System.nanoTime() + timeout.toNanos();
    while (get("primary: wait for the sync to end", () -> q.call(new QueryBlockJobs(), CALL)).stream()
        .anyMatch(j -> j.device().endsWith("-sync"))) {
      if (System.nanoTime() > until) throw failed("primary: the disk sync did not end within " + timeout.toSeconds() + " s");
      Thread.sleep(20);
    }
  }

  static String syncNode(DiskSpec d) {
    return d.id() + "-sync";
  }

  private interface Step {
    void run() throws QmpException;
  }

  private interface Get<T> {
    T get() throws QmpException;
  }

  private static void step(String what, Step s) {
    get(what, () -> {
      s.run();
      return null;
    });
  }

  private static <T> T get(String what, Get<T> g) {
    try {
      return g.get();
    } catch (QmpErrorException e) {
      throw failed(what + ": qemu refused: " + e.getMessage());
    } catch (QmpException e) {
      throw new AgentException(Kind.UNAVAILABLE, what + ": " + e.getMessage(), e);
    }
  }

  private static AgentException failed(String why) {
    return new AgentException(Kind.INTERNAL, why);
  }
}
