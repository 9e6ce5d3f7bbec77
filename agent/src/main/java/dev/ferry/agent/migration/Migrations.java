package dev.ferry.agent.migration;

import dev.ferry.agent.pool.Pools;
import dev.ferry.agent.vm.QemuHost;
import dev.ferry.agent.vm.Vms;
import dev.ferry.api.AgentVmStatus;
import dev.ferry.api.IncomingReady;
import dev.ferry.api.IncomingRequest;
import dev.ferry.api.IncomingStatus;
import dev.ferry.api.MemoryDigest;
import dev.ferry.api.MigrationStats;
import dev.ferry.api.OutgoingRequest;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Live migration on this host, as source ({@code outgoing}) or target ({@code incoming}) of a VM;
 * the controller orchestrates the two agents. State lives in {@code DIR/vms/NAME/migration.json};
 * while a migration holds a VM its ordinary actions answer 409.
 *
 * <p>The controller's sequence: target {@code PUT incoming} → source {@code POST outgoing} (with
 * the target's URI and NBD exports) → poll source {@code GET outgoing} until {@code completed} →
 * target {@code POST incoming/finish} → source {@code POST outgoing/complete}. Before the target's
 * finish, roll back with source {@code POST outgoing/cancel} (if not yet completed) and target
 * {@code DELETE incoming}.
 */
public final class Migrations {

  private static final Logger log = LoggerFactory.getLogger(Migrations.class);

  private final Vms vms;
  private final MigrationSource source;
  private final MigrationTarget target;

  private Migrations(Vms vms, MigrationSource source, MigrationTarget target) {
    this.vms = vms;
    this.source = source;
    this.target = target;
  }

  /**
   * Installs the action guard on {@code vms} and re-attaches to migrations a previous agent left
   * under way.
   *
   * @param address the address of this host that other hosts reach (migration stream and NBD)
   */
  public static Migrations start(Path dataDir, Vms vms, Pools pools, QemuHost host, String address) {
    var store = new MigrationStore(dataDir);
    var busy = new Busy();
    var m = new Migrations(vms, new MigrationSource(vms, pools, store, busy),
        new MigrationTarget(vms, pools, host, store, busy, address));
    vms.guardActions(busy::check);
    for (AgentVmStatus vm : vms.list()) {
      try {
        m.source.recover(vm.name());
        m.target.recover(vm.name());
      } catch (RuntimeException e) {
        log.error("vm {}: cannot recover its migration: {}", vm.name(), e.getMessage());
      }
    }
    return m;
  }

  public IncomingReady incoming(String vm, IncomingRequest request) {
    return target.prepare(vm, request);
  }

  public IncomingStatus incomingStatus(String vm) {
    return target.status(vm);
  }

  public IncomingStatus finishIncoming(String vm) {
    return target.finish(vm);
  }

  public void rollBackIncoming(String vm) {
    target.rollBack(vm);
  }

  public MigrationStats outgoing(String vm, OutgoingRequest request) {
    return source.start(vm, request);
  }

  public MigrationStats outgoingStats(String vm) {
    return source.stats(vm);
  }

  public MigrationStats cancelOutgoing(String vm) {
    return source.cancel(vm);
  }

  public MigrationStats postcopy(String vm) {
    return source.postcopy(vm);
  }

  public MigrationStats completeOutgoing(String vm, boolean deleteSourceImages) {
    return source.complete(vm, deleteSourceImages);
  }

  public MemoryDigest memoryDigest(String vm) {
    return MemoryDigests.digest(vms.peek(vm));
  }
}
