package dev.ferry.controller.migration;

import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.CopyStorageDisk;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.Json;
import dev.ferry.api.MigrationPlan;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.networks.NetworkService;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target's side of a live migration before the stream starts: a paused QEMU with the source's
 * device model, listening for the guest, and the images of the copied disks in their target pool.
 */
final class TargetPreparation {

  private static final Logger LOG = LoggerFactory.getLogger(TargetPreparation.class);
  /** creating images and starting a paused QEMU on the target takes longer than an ordinary call */
  static final Duration PREPARE_TIMEOUT = Duration.ofSeconds(60);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final LiveOptions options;
  private IncomingReady ready;

  TargetPreparation(MigrationContext ctx, MigrationRecord record, LiveOptions options) {
    this.ctx = ctx;
    this.record = record;
    this.options = options;
  }

  /** Where the target listens; a runner restarted past {@link LivePhase#PREPARING_TARGET} asks the agent again. */
  IncomingReady ready() {
    return ready != null ? ready : prepare();
  }

  /** {@code PUT incoming} on the target with the source's device model; the agent answers a repeat with the same ports. */
  IncomingReady prepare() {
    AgentVmStatus live = ctx.retrying(record.source, "status of vm " + record.vm,
        () -> ctx.agent(record.source).vm(record.vm));
    if (live.machineType() == null) {
      throw new ControllerException(Kind.CONFLICT, "host '" + record.source + "' reports no machine type for vm '"
          + record.vm + "'; is it still running?");
    }
    // the target runs the guest on its own QEMU's completed event: from completed to cont the guest runs
    // nowhere, and waiting for this runner to see the source complete and call finish was client-visible
    // silence (68 ms on average in the live bench) that QEMU's downtime figure leaves out; the runner's
    // finish stays the idempotent fallback and the point of no return is QEMU's completion either way
    var body = new IncomingRequest(record.id, definition(live), live.memoryGivenBytes(), options.targetCapabilities(),
        options.targetParameters(), copies(), record.source, true);
    IncomingReady r = ctx.retrying(record.target, "prepare of the target",
        () -> ctx.agent(record.target).within(PREPARE_TIMEOUT).incoming(record.vm, body));
    LOG.info("migration {}: host {} listens for vm {} at {}{}", record.id, record.target, record.vm, r.migrationUri(),
        r.nbdPort() == null ? "" : ", nbd " + r.nbdHost() + ":" + r.nbdPort());
    ready = r;
    return r;
  }

  /** The pool a copied disk lives in on the target, as the stored plan says. */
  String pool(DiskRow d) {
    return record.plan.copies().stream().filter(c -> c.disk().equals(d.id())).findFirst()
        .map(MigrationPlan.PlannedCopy::pool).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
            "disk " + d.id() + " of vm '" + record.vm + "' is not in the plan of migration " + record.id));
  }

  /** The VM as the source runs it: its spec, its disks as stored, the source's resolved machine type. */
  private AgentVmDefinition definition(AgentVmStatus live) {
    VmRow vm = ctx.store().vms().find(record.vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
        "vm '" + record.vm + "' is not in the store any more"));
    VmCreateRequest spec;
    try {
      spec = Json.mapper().readValue(vm.spec(), VmCreateRequest.class);
    } catch (IOException e) {
      throw new ControllerException(Kind.INTERNAL, "vm '" + vm.name() + "' has an unreadable spec", e);
    }
    List<AgentDisk> disks = ctx.store().vms().disks(vm.name()).stream()
        .map(d -> new AgentDisk(d.id(), d.path(), d.format())).toList();
    // the same MACs on the same networks: the guest stays one endpoint of its L2 segment
    List<dev.ferry.api.agent.AgentNic> nics = NetworkService.agentNics(ctx.store(), vm.name());
    return new AgentVmDefinition(vm.name(), vm.cpus(), vm.memoryRequestedBytes(), live.machineType(), vm.cpuModel(),
        spec.kernel(), spec.initrd(), spec.append(), disks, nics.isEmpty() ? null : nics, spec.ftReady());
  }

  private List<CopyStorageDisk> copies() {
    return record.plan.copies().stream().map(c -> new CopyStorageDisk(c.disk(), c.pool(), c.format(), c.sizeBytes()))
        .toList();
  }
}
