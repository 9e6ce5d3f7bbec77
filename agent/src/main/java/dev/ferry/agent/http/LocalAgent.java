package dev.ferry.agent.http;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.migration.Migrations;
import dev.ferry.agent.storage.StorageMoves;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.PoolView;
import dev.ferry.api.agent.AgentHeartbeat;
import dev.ferry.api.agent.AgentPoolRequest;
import dev.ferry.api.agent.AgentVmDefinition;
import dev.ferry.api.agent.AgentVmStatus;
import dev.ferry.api.agent.ColdCopyRequest;
import dev.ferry.api.agent.ColdCopyStatus;
import dev.ferry.api.agent.ColdExport;
import dev.ferry.api.agent.ColdExportRequest;
import dev.ferry.api.agent.DiskHashes;
import dev.ferry.api.agent.Defined;
import dev.ferry.api.agent.FtPrimaryStatus;
import dev.ferry.api.agent.FtProtectRequest;
import dev.ferry.api.agent.FtSecondaryRequest;
import dev.ferry.api.agent.FtSecondaryStatus;
import dev.ferry.api.agent.HostAgent;
import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.DirtyRate;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MigrationTuning;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.OutgoingReclaim;
import dev.ferry.api.agent.OutgoingUnlock;
import dev.ferry.api.agent.PostcopyResume;
import dev.ferry.api.agent.VerifyResult;
import dev.ferry.api.agent.VolumeCreateRequest;
import dev.ferry.api.agent.VolumeView;
import java.time.Duration;
import java.util.List;

/**
 * This host's agent as a {@link HostAgent}: each endpoint handed to the service that owns it.
 * The stop timeout's bounds are the agent's own rule and are checked here, as the request's.
 */
record LocalAgent(AgentApi.Services s) implements HostAgent {

  static final long DEFAULT_STOP_TIMEOUT_MS = 30_000;
  static final long MAX_STOP_TIMEOUT_MS = 600_000;

  @Override
  public AgentHeartbeat host() {
    return s.host().get();
  }

  @Override
  public List<PoolView> pools() {
    return s.pools().views();
  }

  @Override
  public Defined<PoolView> definePool(String pool, AgentPoolRequest request) {
    var defined = s.pools().define(pool, request.path(), request.shared());
    return new Defined<>(defined.view(), defined.created());
  }

  @Override
  public VolumeView createVolume(VolumeCreateRequest request) {
    return s.volumes().create(request);
  }

  @Override
  public void deleteVolume(String pool, String name) {
    s.volumes().delete(pool, name);
  }

  @Override
  public List<AgentVmStatus> vms() {
    return s.vms().list();
  }

  @Override
  public AgentVmStatus vm(String vm) {
    return s.vms().status(vm);
  }

  @Override
  public Defined<AgentVmStatus> defineVm(String vm, AgentVmDefinition definition) {
    var defined = s.vms().define(vm, definition);
    return new Defined<>(defined.status(), defined.created());
  }

  @Override
  public void deleteVm(String vm, boolean deleteDisks) {
    s.vms().delete(vm, deleteDisks);
    if (s.warm() != null) s.warm().sources().forgetHashes(vm);
  }

  @Override
  public AgentVmStatus start(String vm) {
    return s.vms().start(vm);
  }

  @Override
  public AgentVmStatus stageVm(String vm) {
    AgentVmStatus st = s.vms().stage(vm);
    // staging is a warm cutover's: its final pass then writes through the staged QEMU
    if (s.warm() != null) s.warm().copies().openForFinalPass(vm);
    return st;
  }

  @Override
  public AgentVmStatus stop(String vm, Duration timeout) {
    long ms = timeout == null ? DEFAULT_STOP_TIMEOUT_MS : timeout.toMillis();
    if (ms < 0 || ms > MAX_STOP_TIMEOUT_MS) {
      throw AgentException.badInput("timeout_ms", Long.toString(ms), "0 to " + MAX_STOP_TIMEOUT_MS + " milliseconds");
    }
    return s.vms().stop(vm, Duration.ofMillis(ms));
  }

  @Override
  public AgentVmStatus powerDown(String vm, Duration timeout) {
    long ms = timeout == null ? DEFAULT_STOP_TIMEOUT_MS : timeout.toMillis();
    if (ms < 0 || ms > MAX_STOP_TIMEOUT_MS) {
      throw AgentException.badInput("timeout_ms", Long.toString(ms), "0 to " + MAX_STOP_TIMEOUT_MS + " milliseconds");
    }
    return s.vms().powerDown(vm, Duration.ofMillis(ms));
  }

  @Override
  public AgentVmStatus kill(String vm) {
    return s.vms().kill(vm);
  }

  @Override
  public ConsoleChunk console(String vm, Long offset, Integer tail) {
    return s.vms().console(vm, offset, tail);
  }

  @Override
  public Defined<MirrorStatus> mirror(String vm, String disk, MirrorRequest request) {
    StorageMoves.Started started = s.moves().mirror(vm, disk, request);
    return new Defined<>(started.status(), started.created());
  }

  @Override
  public MirrorStatus mirrorStatus(String vm, String disk) {
    return s.moves().status(vm, disk);
  }

  @Override
  public MirrorStatus pivot(String vm, String disk) {
    return s.moves().pivot(vm, disk);
  }

  @Override
  public VerifyResult verify(String vm, String disk) {
    return s.moves().verify(vm, disk);
  }

  @Override
  public MirrorStatus release(String vm, String disk, boolean keepSource) {
    return s.moves().release(vm, disk, keepSource);
  }

  @Override
  public MirrorStatus cancelMirror(String vm, String disk) {
    return s.moves().cancel(vm, disk);
  }

  // live migration: bound only when the agent has it (AgentApi), so migrations() is never null here

  private Migrations m() {
    return s.migrations();
  }

  @Override
  public IncomingReady incoming(String vm, IncomingRequest request) {
    return m().incoming(vm, request);
  }

  @Override
  public IncomingStatus incomingStatus(String vm) {
    return m().incomingStatus(vm);
  }

  @Override
  public void rollBackIncoming(String vm) {
    m().rollBackIncoming(vm);
  }

  @Override
  public IncomingStatus finishIncoming(String vm) {
    return m().finishIncoming(vm);
  }

  @Override
  public IncomingReady recoverIncoming(String vm) {
    return m().recoverIncoming(vm);
  }

  @Override
  public MigrationStats outgoing(String vm, OutgoingRequest request) {
    return m().outgoing(vm, request);
  }

  @Override
  public MigrationStats outgoingStats(String vm) {
    return m().outgoingStats(vm);
  }

  @Override
  public boolean waitsForPhaseChange() {
    return true;
  }

  @Override
  public MigrationStats outgoingStats(String vm, String unlessPhase, int waitMs) {
    return m().outgoingStats(vm, unlessPhase, waitMs);
  }

  @Override
  public MigrationStats cancelOutgoing(String vm) {
    return m().cancelOutgoing(vm);
  }

  @Override
  public MigrationStats postcopy(String vm) {
    return m().postcopy(vm);
  }

  @Override
  public MigrationStats pauseOutgoing(String vm) {
    return m().pauseOutgoing(vm);
  }

  @Override
  public MigrationStats tuneOutgoing(String vm, MigrationTuning tuning) {
    return m().tuneOutgoing(vm, tuning.parameters());
  }

  @Override
  public MigrationStats resumeOutgoing(String vm, PostcopyResume resume) {
    return m().resumeOutgoing(vm, resume.migrationUri());
  }

  @Override
  public MigrationStats completeOutgoing(String vm, boolean deleteSourceImages) {
    return m().completeOutgoing(vm, deleteSourceImages);
  }

  @Override
  public MigrationStats reclaimOutgoing(String vm, OutgoingReclaim request) {
    return m().reclaimOutgoing(vm, request);
  }

  @Override
  public MigrationStats unlockOutgoing(String vm, OutgoingUnlock request) {
    return m().unlockOutgoing(vm, request);
  }

  @Override
  public MemoryDigest memoryDigest(String vm) {
    return m().memoryDigest(vm);
  }

  @Override
  public DirtyRate measureDirtyRate(String vm, long calcTimeS) {
    return m().measureDirtyRate(vm, calcTimeS);
  }

  @Override
  public DirtyRate dirtyRate(String vm) {
    return m().dirtyRate(vm);
  }

  // cold migration: bound only when the agent has it (AgentApi), so cold() is never null here

  @Override
  public ColdExport coldExport(String vm, ColdExportRequest request) {
    return s.cold().exports().export(vm, request);
  }

  @Override
  public void stopColdExport(String vm) {
    s.cold().exports().stop(vm);
  }

  @Override
  public List<DiskHashes> sourceHashes(String vm) {
    return s.cold().exports().hashes(vm);
  }

  @Override
  public ColdCopyStatus coldCopy(String migrationId, ColdCopyRequest request) {
    return s.cold().copies().start(migrationId, request);
  }

  @Override
  public ColdCopyStatus coldCopyStatus(String migrationId) {
    return s.cold().copies().status(migrationId);
  }

  @Override
  public ColdCopyStatus cancelColdCopy(String migrationId) {
    return s.cold().copies().cancel(migrationId);
  }

  @Override
  public List<DiskHashes> targetHashes(String migrationId) {
    return s.cold().copies().hashes(migrationId);
  }

  @Override
  public ColdCopyStatus forgetColdCopy(String migrationId) {
    return s.cold().copies().forget(migrationId);
  }

  // warm migration: bound only when the agent has it (AgentApi), so warm() is never null here

  @Override
  public dev.ferry.api.agent.WarmSource warmSource(String vm, dev.ferry.api.agent.WarmSourceRequest request) {
    return s.warm().sources().start(vm, request);
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceStatus(String vm) {
    return s.warm().sources().status(vm);
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourcePass(String vm, dev.ferry.api.agent.WarmPassRequest request) {
    return s.warm().sources().pass(vm, request);
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceShutdown(String vm, dev.ferry.api.agent.WarmShutdownRequest request) {
    return s.warm().sources().shutdown(vm, request);
  }

  @Override
  public dev.ferry.api.agent.WarmSource warmSourceFinish(String vm) {
    return s.warm().sources().finish(vm);
  }

  @Override
  public List<DiskHashes> warmSourceHashes(String vm, dev.ferry.api.agent.WarmHashesRequest request) {
    return s.warm().sources().hashes(vm, request.migrationId());
  }

  @Override
  public void cancelWarmSource(String vm) {
    s.warm().sources().cancel(vm);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopy(String migrationId, dev.ferry.api.agent.WarmCopyRequest request) {
    return s.warm().copies().start(migrationId, request);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopyPass(String migrationId, dev.ferry.api.agent.WarmPassCopy request) {
    return s.warm().copies().pass(migrationId, request);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus warmCopyStatus(String migrationId) {
    return s.warm().copies().status(migrationId);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus cancelWarmCopy(String migrationId) {
    return s.warm().copies().cancel(migrationId);
  }

  @Override
  public List<DiskHashes> warmCopyHashes(String migrationId) {
    return s.warm().copies().hashes(migrationId);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus attachWarmCopy(String migrationId) {
    return s.warm().copies().attach(migrationId);
  }

  @Override
  public dev.ferry.api.agent.WarmCopyStatus forgetWarmCopy(String migrationId) {
    return s.warm().copies().forget(migrationId);
  }

  // fault tolerance: bound only when the agent has it (AgentApi), so ft() is never null here

  @Override
  public FtSecondaryStatus ftSecondary(String vm, FtSecondaryRequest request) {
    return s.ft().secondaries().prepare(vm, request);
  }

  @Override
  public FtSecondaryStatus ftSecondaryStatus(String vm) {
    return s.ft().secondaries().status(vm);
  }

  @Override
  public void removeFtSecondary(String vm) {
    s.ft().secondaries().remove(vm);
  }

  @Override
  public FtPrimaryStatus ftProtect(String vm, FtProtectRequest request) {
    return s.ft().primaries().protect(vm, request);
  }

  @Override
  public FtPrimaryStatus ftStatus(String vm) {
    return s.ft().primaries().status(vm);
  }

  @Override
  public FtPrimaryStatus ftUnprotect(String vm) {
    return s.ft().primaries().unprotect(vm);
  }

  @Override
  public FtPrimaryStatus ftFence(String vm) {
    return s.ft().primaries().fence(vm);
  }

  @Override
  public dev.ferry.api.agent.FtSecondaryHeartbeat ftSecondaryHeartbeat(String vm) {
    return s.ft().secondaries().heartbeat(vm);
  }

  @Override
  public AgentVmStatus ftTakeover(String vm) {
    return s.ft().secondaries().takeover(vm);
  }
}
