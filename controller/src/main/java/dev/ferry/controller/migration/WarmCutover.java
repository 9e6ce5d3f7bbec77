package dev.ferry.controller.migration;

import dev.ferry.api.Durations;
import dev.ferry.api.WarmMigrationRequest;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.api.agent.WarmCopyStatus;
import dev.ferry.api.agent.WarmHashesRequest;
import dev.ferry.api.agent.WarmShutdownRequest;
import dev.ferry.api.agent.WarmSource;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.ControllerException.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A warm migration's steps around the guest's power-off, on both hosts: the target staged before
 * it, the power-off itself (which prepares the final pass), after the final pass the target's
 * staged QEMU taking the images while both hosts answer their hashes, and the source's QEMU
 * quitting, in the release after the point of no return or before its own hashing where it kept
 * none. The phases and what a restart does in each are {@link WarmMigration}'s.
 */
final class WarmCutover {

  private static final Logger LOG = LoggerFactory.getLogger(WarmCutover.class);

  private final MigrationContext ctx;
  private final MigrationRecord record;
  private final WarmMigrationRequest request;
  private final Handover handover;
  private final Consumer<String> note;
  /** the final pass's source, prepared by the source agent as the guest powered off; taken once */
  private WarmSource preparedFinalPass;
  /** the source's kept hashes, asked for while the target copies the final pass; null before */
  private FutureTask<List<DiskHashes>> earlySourceHashes;

  WarmCutover(MigrationContext ctx, MigrationRecord record, WarmMigrationRequest request, Handover handover,
      Consumer<String> note) {
    this.ctx = ctx;
    this.record = record;
    this.request = request;
    this.handover = handover;
    this.note = note;
  }

  /**
   * ACPI power-off through the source agent, which keeps QEMU; a guest that does not power off
   * within the timeout keeps running, and the migration fails saying so (never killed): then
   * {@link WarmPhase#CANCELLING}, else {@link WarmPhase#FINAL_PASS}. {@code downFrom} gets the
   * instant the downtime counts from.
   */
  WarmPhase shutDown(String phase, Consumer<Instant> downFrom) {
    Duration timeout = request.shutdownTimeout() == null ? ColdMigration.DEFAULT_SHUTDOWN
        : Durations.parsePositive("shutdown_timeout", request.shutdownTimeout());
    if (record.shutdownRequestedAt == null && !stageTarget()) return WarmPhase.CANCELLING;
    downFrom.accept(ctx.shutdownRequested(record, phase));
    WarmSource st;
    try {
      st = ctx.retrying(record.source, "shutdown of vm " + record.vm, () -> ctx.agent(record.source)
          .within(timeout.plusSeconds(30)).warmSourceShutdown(record.vm, new WarmShutdownRequest(record.id,
              timeout.toMillis(), record.passes)));
    } catch (ControllerException e) {
      requireSourceQemuAlive(e.getMessage());
      throw e;
    }
    if (st.guest().equals(WarmSource.GONE)) requireSourceQemuAlive("the source agent found no QEMU after the power-off");
    if (!st.guest().equals(WarmSource.SHUTDOWN)) {
      note.accept("the guest of vm '" + record.vm + "' did not power off within " + timeout.toSeconds()
          + " s; it keeps running on host '" + record.source + "'");
      return WarmPhase.CANCELLING;
    }
    record.shutdownMs = st.shutdownMs();
    // an agent that prepared the final pass answers with its export (one that did not, with the last one)
    if (st.pass() == record.passes && st.bitmap() != null) preparedFinalPass = st;
    LOG.info("migration {}: vm {} powered off in {} ms", record.id, record.vm, st.shutdownMs());
    return WarmPhase.FINAL_PASS;
  }

  /**
   * The source of final pass {@code n} as the power-off prepared it, once: a pass run again, or
   * one a restarted controller runs, asks the source for it (which answers the same export).
   */
  WarmSource takePreparedFinalPass(int n) {
    WarmSource p = preparedFinalPass;
    preparedFinalPass = null;
    return p != null && p.pass() == n ? p : null;
  }

  /**
   * The VM defined on the target and its QEMU started there, paused, its disks staged (the passes
   * still write them): the guest still runs on the source meanwhile, so QEMU's start is not part of
   * the downtime, and a target that cannot start the VM is found before the guest goes down, which
   * then keeps running on the source (false). A restart after the shutdown request does not stage
   * again: the start after the hand-over starts whatever is there.
   */
  private boolean stageTarget() {
    WarmCopyStatus s = ctx.retrying(record.target, "copy status", () -> ctx.agent(record.target)
        .warmCopyStatus(record.id));
    handover.defineOnTarget(s.disks());
    try {
      AgentVmStatus st = ctx.retrying(record.target, "staged start of vm " + record.vm, () -> ctx.agent(record.target)
          .within(Duration.ofSeconds(60)).stageVm(record.vm));
      LOG.info("migration {}: vm {} staged on host {} ({})", record.id, record.vm, record.target, lower(st.state()));
      return true;
    } catch (ControllerException e) {
      if (e.kind() == Kind.UNAVAILABLE) throw e;
      note.accept("host '" + record.target + "' could not start vm '" + record.vm + "' (" + e.getMessage()
          + "); the guest was not powered off and keeps running on host '" + record.source + "'");
      return false;
    }
  }

  /**
   * Both copies' hashes as fetched right after the final pass; either is null where that fetch
   * failed, and the verification asks again.
   */
  record Hashes(List<DiskHashes> source, List<DiskHashes> target) {}

  /**
   * While the target copies the final pass: the source's hashes as its ledger kept them, asked for
   * now rather than after the pass (the source has them ~15 ms after the power-off, and fetching
   * them after the pass was part of the ~11 ms the hand-over waited for hashes). Only the kept
   * ones: a source that must hash its disks quits its QEMU first, which the final pass still reads,
   * so any failure here leaves the source's hashes to the verification.
   */
  void askSourceHashesEarly() {
    if (earlySourceHashes != null) return;
    earlySourceHashes = new FutureTask<>(() -> prefetch(record.source, () -> ctx.agent(record.source)
        .within(Handover.HASH_TIMEOUT).warmSourceHashes(record.vm, new WarmHashesRequest(record.id))));
    Thread.ofVirtual().name("hashes-" + record.source).start(earlySourceHashes);
  }

  /**
   * The guest is off and its last writes are on the target: the target's copier lets go of the
   * images and its staged QEMU takes them, so that the start after the hand-over only resumes it;
   * meanwhile both hosts answer the hashes they kept of the final pass (the source's asked for
   * during the pass, {@link #askSourceHashesEarly}, where it was). The source's QEMU, its
   * guest off, stays until the release ({@link #finishSource}): its quitting took 20-30 ms of every
   * downtime. (A target that must hash an image its ledger lost attaches it first itself: reading
   * it takes its lock.) Both before the point of no return: a rollback kills the staged QEMU with the target's
   * definition and boots the guest on the source again. A target whose QEMU can open the images
   * but not attach them fails the migration here, the guest not yet started anywhere; one with
   * nothing staged (its QEMU died) answers its status, and its start is a plain one.
   */
  Hashes attachWhileSourceHashes() {
    var attach = new FutureTask<WarmCopyStatus>(() -> ctx.retrying(record.target, "attach of the copy's images",
        () -> ctx.agent(record.target).within(Duration.ofSeconds(60)).attachWarmCopy(record.id)));
    var target = new FutureTask<List<DiskHashes>>(() -> prefetch(record.target, () -> ctx.agent(record.target)
        .within(Handover.HASH_TIMEOUT).warmCopyHashes(record.id)));
    Thread.ofVirtual().name("attach-" + record.target).start(attach);
    Thread.ofVirtual().name("hashes-" + record.target).start(target);
    FutureTask<List<DiskHashes>> early = earlySourceHashes;
    earlySourceHashes = null;
    try {
      List<DiskHashes> source = early != null ? early.get() : prefetch(record.source, this::sourceHashes);
      attach.get();
      return new Hashes(source, target.get());
    } catch (InterruptedException e) {
      attach.cancel(true);
      target.cancel(true);
      if (early != null) early.cancel(true);
      Thread.currentThread().interrupt();
      throw new ControllerException(Kind.INTERNAL, "interrupted while host '" + record.target
          + "' attached the staged disks of vm '" + record.vm + "'");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) throw re;
      throw new ControllerException(Kind.INTERNAL, "attach of the staged disks: " + e.getCause());
    }
  }

  /**
   * The source's hashes: those it kept of every pass, without waiting for its QEMU; where it did
   * not keep them all (a hashing that did not end, an agent restarted since) its QEMU quits first
   * and the missing ones are computed from the disks.
   */
  List<DiskHashes> sourceHashes() {
    try {
      return ctx.agent(record.source).within(Handover.HASH_TIMEOUT).warmSourceHashes(record.vm,
          new WarmHashesRequest(record.id));
    } catch (ControllerException e) {
      if (e.kind() != Kind.AGENT_REJECTED || e.agentProblem() == null || e.agentProblem().status() != 409) throw e;
      LOG.info("migration {}: {}", record.id, e.getMessage());
      finishSource();
      return ctx.retrying(record.source, "hashes of the source", () -> ctx.agent(record.source)
          .within(Handover.HASH_TIMEOUT).warmSourceHashes(record.vm, new WarmHashesRequest(record.id)));
    }
  }

  /**
   * The source's QEMU quits (its guest is off), its warm source record with it; a source already
   * finished (a repeat, a restart) is left as it is.
   */
  void finishSource() {
    try {
      ctx.retrying(record.source, "finish of the source", () -> ctx.agent(record.source)
          .within(Duration.ofSeconds(60)).warmSourceFinish(record.vm));
    } catch (ControllerException e) {
      if (!Handover.notFound(e)) throw e;
    }
  }

  /** One host's hashes, or null (logged) when it cannot answer them now: the verification asks again. */
  private List<DiskHashes> prefetch(String host, Supplier<List<DiskHashes>> hashes) {
    try {
      return hashes.get();
    } catch (RuntimeException e) {
      LOG.info("migration {}: hashes of host {} not fetched with the hand-over ({}); the verification asks again",
          record.id, host, e.getMessage());
      return null;
    }
  }

  /**
   * A source QEMU that died during the guest's power-off ends the migration here: the guest never
   * flushed its page cache, so a final pass would copy disks without its last writes and the target
   * would boot from them. The VM stays on the source as the crash left it.
   */
  private void requireSourceQemuAlive(String agentSaid) {
    AgentVmStatus vm = ctx.retrying(record.source, "status of vm " + record.vm,
        () -> ctx.agent(record.source).vm(record.vm));
    String how = switch (vm.state()) {
      case CRASHED -> "died during the guest's power-off";
      // the guest's own power-off came first, but the final pass reads through that QEMU
      case STOPPED -> "exited during the guest's power-off";
      default -> null;
    };
    if (how != null) {
      throw new ControllerException(Kind.CONFLICT, "the QEMU of vm '" + record.vm + "' on host '" + record.source
          + "' " + how + ": no final pass, no cutover (" + agentSaid + ")");
    }
  }

  private static String lower(Enum<?> e) {
    return e == null ? "unknown" : e.name().toLowerCase(java.util.Locale.ROOT);
  }
}
