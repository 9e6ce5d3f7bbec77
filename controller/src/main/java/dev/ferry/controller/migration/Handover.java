package dev.ferry.controller.migration;

import dev.ferry.api.Json;
import dev.ferry.api.MigrationStatus;
import dev.ferry.api.MigrationView;
import dev.ferry.api.VmCreateRequest;
import dev.ferry.api.agent.AgentDisk;
import dev.ferry.api.agent.AgentNic;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import dev.ferry.controller.networks.NetworkService;
import dev.ferry.controller.store.DiskRow;
import dev.ferry.controller.store.MigrationRow;
import dev.ferry.controller.store.MigrationStore;
import dev.ferry.controller.store.Page;
import dev.ferry.controller.store.VmRow;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host-to-host hand-over steps that cold and warm migration share once the disks are copied:
 * comparing the hashes each host computed of its copy, defining the VM on the target and moving
 * its ownership in one transaction (the point of no return), releasing the source, and the
 * target's part of a rollback. Each step observes before it acts, so a restarted runner repeats
 * it safely.
 */
final class Handover {

  /** hashing reads each image whole on its host */
  static final Duration HASH_TIMEOUT = Duration.ofMinutes(30);
  private static final Logger LOG = LoggerFactory.getLogger(Handover.class);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final String targetPool;
  private final Consumer<String> note;
  /** the runner was started by a new controller: it cannot tell whether an earlier one defined the VM */
  private final boolean restarted;
  /** this runner asked the target to define the VM, so a rollback removes that definition */
  private boolean definedHere;
  /** the target answered that definition: the hand-over need not send it again */
  private boolean defined;

  Handover(MigrationContext ctx, MigrationRecord record, String targetPool, boolean restarted,
      Consumer<String> note) {
    this.ctx = ctx;
    this.record = record;
    this.targetPool = targetPool;
    this.restarted = restarted;
    this.note = note;
  }

  String targetPool(DiskRow d) {
    return targetPool != null ? targetPool : d.pool();
  }

  /** Null when every disk's hashes agree, else which disk and chunk differ. */
  String compareHashes(Supplier<List<DiskHashes>> target) {
    return compareHashes(() -> ctx.agent(record.source).within(HASH_TIMEOUT).sourceHashes(record.vm), target);
  }

  /** As {@link #compareHashes(Supplier)}, with the source's hashes from {@code source}. */
  String compareHashes(Supplier<List<DiskHashes>> source, Supplier<List<DiskHashes>> target) {
    // both hosts hash at once: each reads its own copy, and the guest is down meanwhile
    var src = new java.util.concurrent.FutureTask<List<DiskHashes>>(() -> ctx.retrying(record.source,
        "hashes of the source", source));
    Thread.ofVirtual().name("hashes-" + record.source).start(src);
    List<DiskHashes> dst;
    try {
      dst = ctx.retrying(record.target, "hashes of the copy", target);
    } catch (RuntimeException e) {
      src.cancel(true);
      throw e;
    }
    try {
      return compare(src.get(), dst);
    } catch (InterruptedException e) {
      src.cancel(true);
      Thread.currentThread().interrupt();
      throw new ControllerException(Kind.INTERNAL, "interrupted while host '" + record.source + "' hashed its copy");
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) throw re;
      throw new ControllerException(Kind.INTERNAL, "hashes of the source: " + e.getCause());
    }
  }

  private String compare(List<DiskHashes> src, List<DiskHashes> dst) {
    for (String disk : record.disks) {
      DiskHashes a = src.stream().filter(h -> h.disk().equals(disk)).findFirst().orElseThrow(() ->
          new ControllerException(Kind.INTERNAL, "host '" + record.source + "' sent no hashes of disk " + disk));
      DiskHashes b = dst.stream().filter(h -> h.disk().equals(disk)).findFirst().orElseThrow(() ->
          new ControllerException(Kind.INTERNAL, "host '" + record.target + "' sent no hashes of disk " + disk));
      if (a.chunkBytes() != b.chunkBytes()) {
        throw new ControllerException(Kind.INTERNAL, "disk " + disk + ": host '" + record.source + "' hashed chunks of "
            + a.chunkBytes() + " bytes, host '" + record.target + "' of " + b.chunkBytes() + "; they cannot be compared");
      }
      int chunk = firstMismatch(a.sha256(), b.sha256());
      if (chunk >= 0) {
        long from = chunk * a.chunkBytes();
        return "verification failed: disk " + disk + " differs in chunk " + chunk + " (bytes " + from + "-"
            + (from + a.chunkBytes() - 1) + ") between host '" + record.source + "' and host '" + record.target
            + "'; the target was not started, its copy removed, the vm stays on host '" + record.source + "'";
      }
      LOG.info("migration {}: disk {} verified, {} chunks of {} bytes agree", record.id, disk, a.sha256().size(),
          a.chunkBytes());
    }
    return null;
  }

  boolean ownedByTarget() {
    return vmRow().host().equals(record.target);
  }

  /** Defines the VM on the target with the copied images, then moves its ownership in one transaction. */
  void defineAndTransfer(List<AgentDisk> images) {
    if (ownedByTarget()) return; // a restart after the transaction
    if (!defined) defineOnTarget(images);
    List<DiskRow> moved = new ArrayList<>();
    for (AgentDisk img : images) {
      DiskRow d = ctx.disk(record.vm, img.id());
      moved.add(new DiskRow(d.vm(), d.id(), targetPool(d), img.format(), img.path(), d.sizeBytes(), true));
    }
    // vm is now owned by the target host: one transaction, never two owners, never none
    ctx.store().vms().transfer(record.vm, record.target, moved);
    LOG.info("migration {}: vm {} now belongs to host {}", record.id, record.vm, record.target);
  }

  /**
   * Defines the VM on the target with the copied images, owned still by the source: a warm cutover
   * does it early to start the target's QEMU before the guest goes down. Idempotent (the target
   * takes the same definition again at any time).
   */
  void defineOnTarget(List<AgentDisk> images) {
    VmRow vm = vmRow();
    if (vm.host().equals(record.target)) return;
    AgentVmDefinition def = definition(vm, images);
    if (!restarted && !definedHere && ColdPreflight.targetHasVm(ctx, record.target, record.vm)) {
      // preflight found none; one appeared since: not ours to redefine, nor (on rollback) to delete
      throw new ControllerException(Kind.CONFLICT, "host '" + record.target + "' has a vm named '" + record.vm
          + "' that this migration did not define; it was left alone, the vm stays on host '" + record.source + "'");
    }
    definedHere = true; // before the side effect: a failure in the call may still have defined it
    ctx.retrying(record.target, "definition of vm " + record.vm,
        () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).defineVm(record.vm, def));
    defined = true;
  }

  /** Past the point of no return: the source forgets the VM and deletes its images unless kept. */
  void releaseSource(boolean keep) {
    try {
      ctx.retrying(record.source, "removal of vm " + record.vm + " from the source", () -> {
        ctx.agent(record.source).within(Duration.ofSeconds(60)).deleteVm(record.vm, !keep);
        return null;
      });
    } catch (ControllerException e) {
      if (!notFound(e)) {
        if (e.kind() != Kind.AGENT_REJECTED) throw e;
        note.accept("host '" + record.source + "' kept vm " + record.vm + ": " + e.getMessage());
      }
    }
  }

  /**
   * A rollback's first step on the target: its definition of the VM, if this migration may have
   * made it (the agent kills a QEMU a warm cutover staged for it, which never ran the guest). Only
   * the cutover defines one, so a rollback of this runner before it leaves a same-name VM there
   * alone; a runner restarted into the rollback cannot tell and removes it, as preflight left no
   * other.
   */
  void removeTargetDefinition() {
    if (!restarted && !definedHere) return;
    try {
      ctx.retrying(record.target, "removal of the target's definition", () -> {
        ctx.agent(record.target).deleteVm(record.vm, false);
        return null;
      });
    } catch (ControllerException e) {
      if (!notFound(e)) throw e;
    }
  }

  /** The first chunk whose hashes differ, or that one side lacks; -1 when all agree. */
  static int firstMismatch(List<String> a, List<String> b) {
    for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
      if (i >= a.size() || i >= b.size() || !a.get(i).equals(b.get(i))) return i;
    }
    return -1;
  }

  /** How many of this VM's last warm cutovers the rest and verification terms take the median of. */
  static final int EARLIER_CUTOVERS = 3;

  /**
   * This VM's own figures from its last successful migrations (newest first): its last power-off
   * (warm, or cold with {@code --shutdown}), the median verification of its last
   * {@value #EARLIER_CUTOVERS} warm cutovers, and the median rest of its last
   * {@value #EARLIER_CUTOVERS} warm cutovers that started it on their target. A cold move's rest is
   * not one: it holds a plain QEMU start (~150-200 ms here), which a warm cutover, its target staged
   * before the power-off, does not pay; taken for the first warm cutover after a cold move, it
   * predicted it 2x long (+93 to +131 % in the copy bench). One cutover's rest swung 373-845 ms on a
   * loaded host: the median follows the host, not one sample.
   */
  WarmPrediction.Earlier earlier() {
    var filter = new MigrationStore.Filter(record.vm, null, MigrationStatus.SUCCEEDED, null, null);
    List<MigrationView> views = new ArrayList<>();
    for (MigrationRow m : ctx.store().migrations().page(new Page(null, 20), filter)) {
      try {
        views.add(MigrationRecord.readStored(m.record()));
      } catch (IOException e) {
        LOG.debug("migration {}: unreadable record skipped: {}", m.id(), e.getMessage());
      }
    }
    return earlier(views);
  }

  /** {@link #earlier()} from this VM's successful migrations, newest first. */
  static WarmPrediction.Earlier earlier(List<MigrationView> newestFirst) {
    Long shutdown = null;
    List<Long> verify = new ArrayList<>();
    List<Long> start = new ArrayList<>();
    for (MigrationView v : newestFirst) {
      if (shutdown == null) shutdown = v.shutdownMs();
      if ("warm".equals(v.kind()) && start.size() < EARLIER_CUTOVERS && v.startMs() != null) {
        start.add(v.startMs());
        if (v.verifyMs() != null) verify.add(v.verifyMs());
      }
    }
    return new WarmPrediction.Earlier(shutdown, median(verify), median(start));
  }

  /** The median (the lower middle of an even count), null of none. */
  static Long median(List<Long> values) {
    if (values.isEmpty()) return null;
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get((sorted.size() - 1) / 2);
  }


  /** The VM as stored, with the new disks and the stored machine type, CPU model and NICs. */
  private AgentVmDefinition definition(VmRow vm, List<AgentDisk> images) {
    VmCreateRequest spec;
    try {
      spec = Json.mapper().readValue(vm.spec(), VmCreateRequest.class);
    } catch (IOException e) {
      throw new ControllerException(Kind.INTERNAL, "vm '" + vm.name() + "' has an unreadable spec", e);
    }
    List<AgentDisk> disks = ctx.store().vms().disks(vm.name()).stream()
        .map(d -> images.stream().filter(i -> i.id().equals(d.id())).findFirst()
            .orElse(new AgentDisk(d.id(), d.path(), d.format())))
        .toList();
    List<AgentNic> nics = NetworkService.agentNics(ctx.store(), vm.name());
    return new AgentVmDefinition(vm.name(), vm.cpus(), vm.memoryRequestedBytes(), vm.machineType(), vm.cpuModel(),
        spec.kernel(), spec.initrd(), spec.append(), disks, nics.isEmpty() ? null : nics, spec.ftReady());
  }

  private VmRow vmRow() {
    return ctx.store().vms().find(record.vm).orElseThrow(() -> new ControllerException(Kind.INTERNAL,
        "vm '" + record.vm + "' is not in the store any more"));
  }

  static boolean notFound(ControllerException e) {
    return e.kind() == Kind.AGENT_REJECTED && e.agentProblem() != null && e.agentProblem().status() == 404;
  }
}
