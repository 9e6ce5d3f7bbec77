package dev.ferry.api.agent;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import dev.ferry.api.ConsoleChunk;
import dev.ferry.api.Json;
import dev.ferry.api.PoolView;
import dev.ferry.api.http.JsonHttp;
import java.time.Duration;
import java.util.List;

/**
 * {@link HostAgent} over HTTP: each method is one {@link AgentRoute}, filled in and sent through
 * {@link JsonHttp}, whose {@link JsonHttp.Failures} decide what a failure becomes. A
 * {@code PUT} that answers 201 reports {@link Defined#created()}.
 */
public final class HttpHostAgent implements HostAgent {

  private static final JavaType POOLS = Json.answers().getTypeFactory().constructType(new TypeReference<List<PoolView>>() {});
  private static final JavaType VMS = Json.answers().getTypeFactory()
      .constructType(new TypeReference<List<AgentVmStatus>>() {});
  private static final JavaType HASHES = Json.answers().getTypeFactory()
      .constructType(new TypeReference<List<DiskHashes>>() {});

  private final JsonHttp http;

  public HttpHostAgent(JsonHttp http) {
    this.http = http;
  }

  @Override
  public HostAgent within(Duration deadline) {
    return new HttpHostAgent(http.within(deadline));
  }

  private <T> T call(AgentRoute route, String query, Object body, Class<T> type, String... params) {
    return call(route, query, body, Json.answers().constructType(type), params);
  }

  private <T> T call(AgentRoute route, String query, Object body, JavaType type, String... params) {
    return http.call(route.method(), route.path(params) + query, body, type, http.deadline());
  }

  /** An idempotent {@code PUT}: the agent's 201 says it created, 200 that it was there. */
  private <T> Defined<T> define(AgentRoute route, Object body, Class<T> type, String... params) {
    JsonHttp.Answered<T> a = http.exchange(route.method(), route.path(params), body, Json.answers().constructType(type),
        http.deadline());
    return new Defined<>(a.value(), a.status() == 201);
  }

  private static String query(String name, Object value) {
    return value == null ? "" : "?" + name + "=" + value;
  }

  @Override
  public AgentHeartbeat host() {
    return call(AgentRoute.HOST, "", null, AgentHeartbeat.class);
  }

  @Override
  public List<PoolView> pools() {
    return call(AgentRoute.POOLS, "", null, POOLS);
  }

  @Override
  public Defined<PoolView> definePool(String pool, AgentPoolRequest request) {
    return define(AgentRoute.POOL_DEFINE, request, PoolView.class, pool);
  }

  @Override
  public VolumeView createVolume(VolumeCreateRequest request) {
    return call(AgentRoute.VOLUME_CREATE, "", request, VolumeView.class);
  }

  @Override
  public void deleteVolume(String pool, String name) {
    call(AgentRoute.VOLUME_DELETE, "", null, Void.class, pool, name);
  }

  @Override
  public List<AgentVmStatus> vms() {
    return call(AgentRoute.VMS, "", null, VMS);
  }

  @Override
  public AgentVmStatus vm(String vm) {
    return call(AgentRoute.VM, "", null, AgentVmStatus.class, vm);
  }

  @Override
  public Defined<AgentVmStatus> defineVm(String vm, AgentVmDefinition definition) {
    return define(AgentRoute.VM_DEFINE, definition, AgentVmStatus.class, vm);
  }

  @Override
  public void deleteVm(String vm, boolean deleteDisks) {
    call(AgentRoute.VM_DELETE, deleteDisks ? query(AgentRoute.Query.DELETE_DISKS, true) : "", null, Void.class, vm);
  }

  @Override
  public AgentVmStatus start(String vm) {
    return call(AgentRoute.VM_START, "", null, AgentVmStatus.class, vm);
  }

  @Override
  public AgentVmStatus stageVm(String vm) {
    return call(AgentRoute.VM_STAGE, "", null, AgentVmStatus.class, vm);
  }

  @Override
  public AgentVmStatus stop(String vm, Duration timeout) {
    return call(AgentRoute.VM_STOP, query(AgentRoute.Query.TIMEOUT_MS, timeout == null ? null : timeout.toMillis()),
        null, AgentVmStatus.class, vm);
  }

  @Override
  public AgentVmStatus powerDown(String vm, Duration timeout) {
    return call(AgentRoute.VM_POWERDOWN, query(AgentRoute.Query.TIMEOUT_MS, timeout == null ? null
        : timeout.toMillis()), null, AgentVmStatus.class, vm);
  }

  @Override
  public AgentVmStatus kill(String vm) {
    return call(AgentRoute.VM_KILL, "", null, AgentVmStatus.class, vm);
  }

  @Override
  public ConsoleChunk console(String vm, Long offset, Integer tail) {
    String q = offset != null ? query(AgentRoute.Query.OFFSET, offset) : query(AgentRoute.Query.TAIL, tail);
    return call(AgentRoute.VM_CONSOLE, q, null, ConsoleChunk.class, vm);
  }

  @Override
  public Defined<MirrorStatus> mirror(String vm, String disk, MirrorRequest request) {
    return define(AgentRoute.MIRROR_START, request, MirrorStatus.class, vm, disk);
  }

  @Override
  public MirrorStatus mirrorStatus(String vm, String disk) {
    return call(AgentRoute.MIRROR_STATUS, "", null, MirrorStatus.class, vm, disk);
  }

  @Override
  public MirrorStatus pivot(String vm, String disk) {
    return call(AgentRoute.MIRROR_PIVOT, "", null, MirrorStatus.class, vm, disk);
  }

  @Override
  public VerifyResult verify(String vm, String disk) {
    return call(AgentRoute.MIRROR_VERIFY, "", null, VerifyResult.class, vm, disk);
  }

  @Override
  public MirrorStatus release(String vm, String disk, boolean keepSource) {
    return call(AgentRoute.MIRROR_RELEASE, query(AgentRoute.Query.KEEP_SOURCE, keepSource), null, MirrorStatus.class,
        vm, disk);
  }

  @Override
  public MirrorStatus cancelMirror(String vm, String disk) {
    return call(AgentRoute.MIRROR_CANCEL, "", null, MirrorStatus.class, vm, disk);
  }

  @Override
  public IncomingReady incoming(String vm, IncomingRequest request) {
    return call(AgentRoute.INCOMING_PREPARE, "", request, IncomingReady.class, vm);
  }

  @Override
  public IncomingStatus incomingStatus(String vm) {
    return call(AgentRoute.INCOMING_STATUS, "", null, IncomingStatus.class, vm);
  }

  @Override
  public void rollBackIncoming(String vm) {
    call(AgentRoute.INCOMING_ROLLBACK, "", null, Void.class, vm);
  }

  @Override
  public IncomingStatus finishIncoming(String vm) {
    return call(AgentRoute.INCOMING_FINISH, "", null, IncomingStatus.class, vm);
  }

  @Override
  public IncomingReady recoverIncoming(String vm) {
    return call(AgentRoute.INCOMING_RECOVER, "", null, IncomingReady.class, vm);
  }

  @Override
  public MigrationStats outgoing(String vm, OutgoingRequest request) {
    return call(AgentRoute.OUTGOING_START, "", request, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats outgoingStats(String vm) {
    return call(AgentRoute.OUTGOING_STATS, "", null, MigrationStats.class, vm);
  }

  @Override
  public boolean waitsForPhaseChange() {
    return true;
  }

  @Override
  public MigrationStats outgoingStats(String vm, String unlessPhase, int waitMs) {
    return call(AgentRoute.OUTGOING_STATS, "?unless=" + unlessPhase + "&wait_ms=" + waitMs, null, MigrationStats.class,
        vm);
  }

  @Override
  public MigrationStats cancelOutgoing(String vm) {
    return call(AgentRoute.OUTGOING_CANCEL, "", null, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats postcopy(String vm) {
    return call(AgentRoute.OUTGOING_POSTCOPY, "", null, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats pauseOutgoing(String vm) {
    return call(AgentRoute.OUTGOING_PAUSE, "", null, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats tuneOutgoing(String vm, MigrationTuning tuning) {
    return call(AgentRoute.OUTGOING_PARAMETERS, "", tuning, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats resumeOutgoing(String vm, PostcopyResume resume) {
    return call(AgentRoute.OUTGOING_RESUME, "", resume, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats completeOutgoing(String vm, boolean deleteSourceImages) {
    return call(AgentRoute.OUTGOING_COMPLETE, query(AgentRoute.Query.DELETE_SOURCE_IMAGES, deleteSourceImages), null,
        MigrationStats.class, vm);
  }

  @Override
  public MigrationStats reclaimOutgoing(String vm, OutgoingReclaim request) {
    return call(AgentRoute.OUTGOING_RECLAIM, "", request, MigrationStats.class, vm);
  }

  @Override
  public MigrationStats unlockOutgoing(String vm, OutgoingUnlock request) {
    return call(AgentRoute.OUTGOING_UNLOCK, "", request, MigrationStats.class, vm);
  }

  @Override
  public MemoryDigest memoryDigest(String vm) {
    return call(AgentRoute.MEMORY_DIGEST, "", null, MemoryDigest.class, vm);
  }

  @Override
  public DirtyRate measureDirtyRate(String vm, long calcTimeS) {
    return call(AgentRoute.DIRTY_RATE_MEASURE, query(AgentRoute.Query.CALC_TIME_S, calcTimeS), null, DirtyRate.class, vm);
  }

  @Override
  public DirtyRate dirtyRate(String vm) {
    return call(AgentRoute.DIRTY_RATE, "", null, DirtyRate.class, vm);
  }

  @Override
  public ColdExport coldExport(String vm, ColdExportRequest request) {
    return call(AgentRoute.COLD_EXPORT_START, "", request, ColdExport.class, vm);
  }

  @Override
  public void stopColdExport(String vm) {
    call(AgentRoute.COLD_EXPORT_STOP, "", null, Void.class, vm);
  }

  @Override
  public List<DiskHashes> sourceHashes(String vm) {
    return call(AgentRoute.COLD_EXPORT_HASHES, "", null, HASHES, vm);
  }

  @Override
  public ColdCopyStatus coldCopy(String migrationId, ColdCopyRequest request) {
    return call(AgentRoute.COLD_COPY_START, "", request, ColdCopyStatus.class, migrationId);
  }

  @Override
  public ColdCopyStatus coldCopyStatus(String migrationId) {
    return call(AgentRoute.COLD_COPY_STATUS, "", null, ColdCopyStatus.class, migrationId);
  }

  @Override
  public ColdCopyStatus cancelColdCopy(String migrationId) {
    return call(AgentRoute.COLD_COPY_CANCEL, "", null, ColdCopyStatus.class, migrationId);
  }

  @Override
  public List<DiskHashes> targetHashes(String migrationId) {
    return call(AgentRoute.COLD_COPY_HASHES, "", null, HASHES, migrationId);
  }

  @Override
  public ColdCopyStatus forgetColdCopy(String migrationId) {
    return call(AgentRoute.COLD_COPY_FORGET, "", null, ColdCopyStatus.class, migrationId);
  }

  @Override
  public WarmSource warmSource(String vm, WarmSourceRequest request) {
    return call(AgentRoute.WARM_SOURCE_START, "", request, WarmSource.class, vm);
  }

  @Override
  public WarmSource warmSourceStatus(String vm) {
    return call(AgentRoute.WARM_SOURCE_STATUS, "", null, WarmSource.class, vm);
  }

  @Override
  public WarmSource warmSourcePass(String vm, WarmPassRequest request) {
    return call(AgentRoute.WARM_SOURCE_PASS, "", request, WarmSource.class, vm);
  }

  @Override
  public WarmSource warmSourceShutdown(String vm, WarmShutdownRequest request) {
    return call(AgentRoute.WARM_SOURCE_SHUTDOWN, "", request, WarmSource.class, vm);
  }

  @Override
  public WarmSource warmSourceFinish(String vm) {
    return call(AgentRoute.WARM_SOURCE_FINISH, "", null, WarmSource.class, vm);
  }

  @Override
  public List<DiskHashes> warmSourceHashes(String vm, WarmHashesRequest request) {
    return call(AgentRoute.WARM_SOURCE_HASHES, "", request, HASHES, vm);
  }

  @Override
  public void cancelWarmSource(String vm) {
    call(AgentRoute.WARM_SOURCE_CANCEL, "", null, Void.class, vm);
  }

  @Override
  public WarmCopyStatus warmCopy(String migrationId, WarmCopyRequest request) {
    return call(AgentRoute.WARM_COPY_START, "", request, WarmCopyStatus.class, migrationId);
  }

  @Override
  public WarmCopyStatus warmCopyPass(String migrationId, WarmPassCopy request) {
    return call(AgentRoute.WARM_COPY_PASS, "", request, WarmCopyStatus.class, migrationId);
  }

  @Override
  public WarmCopyStatus warmCopyStatus(String migrationId) {
    return call(AgentRoute.WARM_COPY_STATUS, "", null, WarmCopyStatus.class, migrationId);
  }

  @Override
  public WarmCopyStatus cancelWarmCopy(String migrationId) {
    return call(AgentRoute.WARM_COPY_CANCEL, "", null, WarmCopyStatus.class, migrationId);
  }

  @Override
  public List<DiskHashes> warmCopyHashes(String migrationId) {
    return call(AgentRoute.WARM_COPY_HASHES, "", null, HASHES, migrationId);
  }

  @Override
  public WarmCopyStatus attachWarmCopy(String migrationId) {
    return call(AgentRoute.WARM_COPY_ATTACH, "", null, WarmCopyStatus.class, migrationId);
  }

  @Override
  public WarmCopyStatus forgetWarmCopy(String migrationId) {
    return call(AgentRoute.WARM_COPY_FORGET, "", null, WarmCopyStatus.class, migrationId);
  }

  @Override
  public FtSecondaryStatus ftSecondary(String vm, FtSecondaryRequest request) {
    return call(AgentRoute.FT_SECONDARY_PREPARE, "", request, FtSecondaryStatus.class, vm);
  }

  @Override
  public FtSecondaryStatus ftSecondaryStatus(String vm) {
    return call(AgentRoute.FT_SECONDARY_STATUS, "", null, FtSecondaryStatus.class, vm);
  }

  @Override
  public void removeFtSecondary(String vm) {
    call(AgentRoute.FT_SECONDARY_REMOVE, "", null, Void.class, vm);
  }

  @Override
  public FtPrimaryStatus ftProtect(String vm, FtProtectRequest request) {
    return call(AgentRoute.FT_PROTECT, "", request, FtPrimaryStatus.class, vm);
  }

  @Override
  public FtPrimaryStatus ftStatus(String vm) {
    return call(AgentRoute.FT_STATUS, "", null, FtPrimaryStatus.class, vm);
  }

  @Override
  public FtPrimaryStatus ftUnprotect(String vm) {
    return call(AgentRoute.FT_UNPROTECT, "", null, FtPrimaryStatus.class, vm);
  }

  @Override
  public FtPrimaryStatus ftFence(String vm) {
    return call(AgentRoute.FT_FENCE, "", null, FtPrimaryStatus.class, vm);
  }

  @Override
  public FtSecondaryHeartbeat ftSecondaryHeartbeat(String vm) {
    return call(AgentRoute.FT_SECONDARY_HEARTBEAT, "", null, FtSecondaryHeartbeat.class, vm);
  }

  @Override
  public AgentVmStatus ftTakeover(String vm) {
    return call(AgentRoute.FT_TAKEOVER, "", null, AgentVmStatus.class, vm);
  }
}
