package dev.ferry.api.agent;

import java.time.Duration;

/**
 * The server half of {@link AgentRoute}: turns one request on a route into the call of the
 * {@link HostAgent} method it names, and its result into a status and a body. The agent binds
 * every route to this, and so does the controller tests' fake agent, so both serve exactly the
 * wire the controller's client speaks. How a path parameter, a query parameter or a body is read
 * (and how a bad one is refused) is the server's {@link Request}.
 */
public final class AgentRoutes {

  private AgentRoutes() {}

  /** One request as the server framework has it. */
  public interface Request {
    /** The path parameter {@code name} of the route's template. */
    String path(String name);

    /** The body, read as {@code type}. */
    <T> T body(Class<T> type);

    /** A boolean query parameter; false when absent. */
    boolean flag(String name);

    /** A whole-number query parameter; null when absent. */
    Long number(String name);

    /** A whole-number query parameter that fits an int; null when absent. */
    Integer count(String name);

    /** A text query parameter as sent; null when absent. */
    String text(String name);
  }

  /** What goes back: the status and the body to encode, null for none (204). */
  public record Answer(int status, Object body) {
    static Answer ok(Object body) {
      return new Answer(200, body);
    }

    static Answer of(Defined<?> d) {
      return new Answer(d.status(), d.value());
    }

    static final Answer NO_CONTENT = new Answer(204, null);
  }

  public static Answer serve(HostAgent agent, AgentRoute route, Request r) {
    return switch (route) {
      case HOST -> Answer.ok(agent.host());
      case POOLS -> Answer.ok(agent.pools());
      case POOL_DEFINE -> Answer.of(agent.definePool(r.path("name"), r.body(AgentPoolRequest.class)));
      case VOLUME_CREATE -> new Answer(201, agent.createVolume(r.body(VolumeCreateRequest.class)));
      case VOLUME_DELETE -> {
        agent.deleteVolume(r.path("pool"), r.path("name"));
        yield Answer.NO_CONTENT;
      }
      case VMS -> Answer.ok(agent.vms());
      case VM -> Answer.ok(agent.vm(r.path("name")));
      case VM_DEFINE -> Answer.of(agent.defineVm(r.path("name"), r.body(AgentVmDefinition.class)));
      case VM_DELETE -> {
        agent.deleteVm(r.path("name"), r.flag(AgentRoute.Query.DELETE_DISKS));
        yield Answer.NO_CONTENT;
      }
      case VM_START -> Answer.ok(agent.start(r.path("name")));
      case VM_STAGE -> Answer.ok(agent.stageVm(r.path("name")));
      case VM_STOP -> {
        Long ms = r.number(AgentRoute.Query.TIMEOUT_MS);
        yield Answer.ok(agent.stop(r.path("name"), ms == null ? null : Duration.ofMillis(ms)));
      }
      case VM_POWERDOWN -> {
        Long ms = r.number(AgentRoute.Query.TIMEOUT_MS);
        yield Answer.ok(agent.powerDown(r.path("name"), ms == null ? null : Duration.ofMillis(ms)));
      }
      case VM_KILL -> Answer.ok(agent.kill(r.path("name")));
      case VM_CONSOLE -> Answer.ok(agent.console(r.path("name"), r.number(AgentRoute.Query.OFFSET),
          r.count(AgentRoute.Query.TAIL)));
      case MIRROR_START -> Answer.of(agent.mirror(r.path("name"), r.path("disk"), r.body(MirrorRequest.class)));
      case MIRROR_STATUS -> Answer.ok(agent.mirrorStatus(r.path("name"), r.path("disk")));
      case MIRROR_PIVOT -> Answer.ok(agent.pivot(r.path("name"), r.path("disk")));
      case MIRROR_VERIFY -> Answer.ok(agent.verify(r.path("name"), r.path("disk")));
      case MIRROR_RELEASE -> Answer.ok(agent.release(r.path("name"), r.path("disk"),
          r.flag(AgentRoute.Query.KEEP_SOURCE)));
      case MIRROR_CANCEL -> Answer.ok(agent.cancelMirror(r.path("name"), r.path("disk")));
      case INCOMING_PREPARE -> Answer.ok(agent.incoming(r.path("name"), r.body(IncomingRequest.class)));
      case INCOMING_STATUS -> Answer.ok(agent.incomingStatus(r.path("name")));
      case INCOMING_ROLLBACK -> {
        agent.rollBackIncoming(r.path("name"));
        yield Answer.NO_CONTENT;
      }
      case INCOMING_FINISH -> Answer.ok(agent.finishIncoming(r.path("name")));
      case INCOMING_RECOVER -> Answer.ok(agent.recoverIncoming(r.path("name")));
      case OUTGOING_START -> Answer.ok(agent.outgoing(r.path("name"), r.body(OutgoingRequest.class)));
      case OUTGOING_STATS -> {
        Integer waitMs = r.count("wait_ms");
        String unless = r.text("unless");
        yield Answer.ok(waitMs == null && unless == null ? agent.outgoingStats(r.path("name"))
            : agent.outgoingStats(r.path("name"), unless, waitMs == null ? 0 : waitMs));
      }
      case OUTGOING_CANCEL -> Answer.ok(agent.cancelOutgoing(r.path("name")));
      case OUTGOING_POSTCOPY -> Answer.ok(agent.postcopy(r.path("name")));
      case OUTGOING_PAUSE -> Answer.ok(agent.pauseOutgoing(r.path("name")));
      case OUTGOING_PARAMETERS -> Answer.ok(agent.tuneOutgoing(r.path("name"), r.body(MigrationTuning.class)));
      case OUTGOING_RESUME -> Answer.ok(agent.resumeOutgoing(r.path("name"), r.body(PostcopyResume.class)));
      case OUTGOING_COMPLETE -> Answer.ok(agent.completeOutgoing(r.path("name"),
          r.flag(AgentRoute.Query.DELETE_SOURCE_IMAGES)));
      case OUTGOING_RECLAIM -> Answer.ok(agent.reclaimOutgoing(r.path("name"), r.body(OutgoingReclaim.class)));
      case OUTGOING_UNLOCK -> Answer.ok(agent.unlockOutgoing(r.path("name"), r.body(OutgoingUnlock.class)));
      case MEMORY_DIGEST -> Answer.ok(agent.memoryDigest(r.path("name")));
      case DIRTY_RATE_MEASURE -> {
        Long s = r.number(AgentRoute.Query.CALC_TIME_S);
        yield Answer.ok(agent.measureDirtyRate(r.path("name"), s == null ? 1 : s));
      }
      case DIRTY_RATE -> Answer.ok(agent.dirtyRate(r.path("name")));
      case COLD_EXPORT_START -> Answer.ok(agent.coldExport(r.path("name"), r.body(ColdExportRequest.class)));
      case COLD_EXPORT_STOP -> {
        agent.stopColdExport(r.path("name"));
        yield Answer.NO_CONTENT;
      }
      case COLD_EXPORT_HASHES -> Answer.ok(agent.sourceHashes(r.path("name")));
      case COLD_COPY_START -> Answer.ok(agent.coldCopy(r.path("id"), r.body(ColdCopyRequest.class)));
      case COLD_COPY_STATUS -> Answer.ok(agent.coldCopyStatus(r.path("id")));
      case COLD_COPY_CANCEL -> Answer.ok(agent.cancelColdCopy(r.path("id")));
      case COLD_COPY_HASHES -> Answer.ok(agent.targetHashes(r.path("id")));
      case COLD_COPY_FORGET -> Answer.ok(agent.forgetColdCopy(r.path("id")));
      case WARM_SOURCE_START -> Answer.ok(agent.warmSource(r.path("name"), r.body(WarmSourceRequest.class)));
      case WARM_SOURCE_STATUS -> Answer.ok(agent.warmSourceStatus(r.path("name")));
      case WARM_SOURCE_PASS -> Answer.ok(agent.warmSourcePass(r.path("name"), r.body(WarmPassRequest.class)));
      case WARM_SOURCE_SHUTDOWN -> Answer.ok(agent.warmSourceShutdown(r.path("name"),
          r.body(WarmShutdownRequest.class)));
      case WARM_SOURCE_FINISH -> Answer.ok(agent.warmSourceFinish(r.path("name")));
      case WARM_SOURCE_HASHES -> Answer.ok(agent.warmSourceHashes(r.path("name"), r.body(WarmHashesRequest.class)));
      case WARM_SOURCE_CANCEL -> {
        agent.cancelWarmSource(r.path("name"));
        yield Answer.NO_CONTENT;
      }
      case WARM_COPY_START -> Answer.ok(agent.warmCopy(r.path("id"), r.body(WarmCopyRequest.class)));
      case WARM_COPY_PASS -> Answer.ok(agent.warmCopyPass(r.path("id"), r.body(WarmPassCopy.class)));
      case WARM_COPY_STATUS -> Answer.ok(agent.warmCopyStatus(r.path("id")));
      case WARM_COPY_CANCEL -> Answer.ok(agent.cancelWarmCopy(r.path("id")));
      case WARM_COPY_HASHES -> Answer.ok(agent.warmCopyHashes(r.path("id")));
      case WARM_COPY_ATTACH -> Answer.ok(agent.attachWarmCopy(r.path("id")));
      case WARM_COPY_FORGET -> Answer.ok(agent.forgetWarmCopy(r.path("id")));
      case FT_SECONDARY_PREPARE -> Answer.ok(agent.ftSecondary(r.path("name"), r.body(FtSecondaryRequest.class)));
      case FT_SECONDARY_STATUS -> Answer.ok(agent.ftSecondaryStatus(r.path("name")));
      case FT_SECONDARY_REMOVE -> {
        agent.removeFtSecondary(r.path("name"));
        yield Answer.NO_CONTENT;
      }
      case FT_PROTECT -> Answer.ok(agent.ftProtect(r.path("name"), r.body(FtProtectRequest.class)));
      case FT_STATUS -> Answer.ok(agent.ftStatus(r.path("name")));
      case FT_UNPROTECT -> Answer.ok(agent.ftUnprotect(r.path("name")));
      case FT_FENCE -> Answer.ok(agent.ftFence(r.path("name")));
      case FT_SECONDARY_HEARTBEAT -> Answer.ok(agent.ftSecondaryHeartbeat(r.path("name")));
      case FT_TAKEOVER -> Answer.ok(agent.ftTakeover(r.path("name")));
    };
  }
}
