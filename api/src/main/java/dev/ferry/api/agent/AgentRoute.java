package dev.ferry.api.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every route of the agent's REST API: an HTTP method and a path template. The controller's client
 * ({@link HttpHostAgent}) fills the templates in and the agent binds its handlers to them
 * ({@link AgentRoutes}), so both sides spell each path once, here. Every route requires
 * {@code Authorization: Bearer <cluster token>}; each constant names the {@link HostAgent} method
 * it carries.
 */
public enum AgentRoute {
  /** {@link HostAgent#host()} */
  HOST("GET", "/agent/host"),
  /** {@link HostAgent#pools()} */
  POOLS("GET", "/agent/pools"),
  /** {@link HostAgent#definePool}: 201 when created, 200 when it was there */
  POOL_DEFINE("PUT", "/agent/pools/{name}"),
  /** {@link HostAgent#createVolume}: 201 */
  VOLUME_CREATE("POST", "/agent/volumes"),
  /** {@link HostAgent#deleteVolume}: 204 */
  VOLUME_DELETE("DELETE", "/agent/volumes/{pool}/{name}"),
  /** {@link HostAgent#vms()} */
  VMS("GET", "/agent/vms"),
  /** {@link HostAgent#vm} */
  VM("GET", "/agent/vms/{name}"),
  /** {@link HostAgent#defineVm}: 201 when created, 200 when redefined */
  VM_DEFINE("PUT", "/agent/vms/{name}"),
  /** {@link HostAgent#deleteVm}: 204; query {@value Query#DELETE_DISKS} */
  VM_DELETE("DELETE", "/agent/vms/{name}"),
  /** {@link HostAgent#start} */
  VM_START("POST", "/agent/vms/{name}/start"),
  /** {@link HostAgent#stageVm} */
  VM_STAGE("POST", "/agent/vms/{name}/stage"),
  /** {@link HostAgent#stop}; query {@value Query#TIMEOUT_MS} */
  VM_STOP("POST", "/agent/vms/{name}/stop"),
  /** {@link HostAgent#powerDown}; query {@value Query#TIMEOUT_MS} */
  VM_POWERDOWN("POST", "/agent/vms/{name}/powerdown"),
  /** {@link HostAgent#kill} */
  VM_KILL("POST", "/agent/vms/{name}/kill"),
  /** {@link HostAgent#console}; query {@value Query#OFFSET} (bytes) or {@value Query#TAIL} (lines) */
  VM_CONSOLE("GET", "/agent/vms/{name}/console"),
  /** {@link HostAgent#mirror}: mirror when running, offline copy when stopped; 201 when started */
  MIRROR_START("PUT", "/agent/vms/{name}/mirrors/{disk}"),
  /** {@link HostAgent#mirrorStatus} */
  MIRROR_STATUS("GET", "/agent/vms/{name}/mirrors/{disk}"),
  /** {@link HostAgent#pivot} */
  MIRROR_PIVOT("POST", "/agent/vms/{name}/mirrors/{disk}/pivot"),
  /** {@link HostAgent#verify} */
  MIRROR_VERIFY("POST", "/agent/vms/{name}/mirrors/{disk}/verify"),
  /** {@link HostAgent#release}; query {@value Query#KEEP_SOURCE} */
  MIRROR_RELEASE("POST", "/agent/vms/{name}/mirrors/{disk}/release"),
  /** {@link HostAgent#cancelMirror} */
  MIRROR_CANCEL("POST", "/agent/vms/{name}/mirrors/{disk}/cancel"),
  /** {@link HostAgent#incoming} */
  INCOMING_PREPARE("PUT", "/agent/vms/{name}/incoming"),
  /** {@link HostAgent#incomingStatus} */
  INCOMING_STATUS("GET", "/agent/vms/{name}/incoming"),
  /** {@link HostAgent#rollBackIncoming}: 204 */
  INCOMING_ROLLBACK("DELETE", "/agent/vms/{name}/incoming"),
  /** {@link HostAgent#finishIncoming} */
  INCOMING_FINISH("POST", "/agent/vms/{name}/incoming/finish"),
  /** {@link HostAgent#recoverIncoming} */
  INCOMING_RECOVER("POST", "/agent/vms/{name}/incoming/recover"),
  /** {@link HostAgent#outgoing} */
  OUTGOING_START("POST", "/agent/vms/{name}/outgoing"),
  /** {@link HostAgent#outgoingStats} */
  OUTGOING_STATS("GET", "/agent/vms/{name}/outgoing"),
  /** {@link HostAgent#cancelOutgoing} */
  OUTGOING_CANCEL("POST", "/agent/vms/{name}/outgoing/cancel"),
  /** {@link HostAgent#postcopy} */
  OUTGOING_POSTCOPY("POST", "/agent/vms/{name}/outgoing/postcopy"),
  /** {@link HostAgent#pauseOutgoing} */
  OUTGOING_PAUSE("POST", "/agent/vms/{name}/outgoing/pause"),
  /** {@link HostAgent#tuneOutgoing} */
  OUTGOING_PARAMETERS("POST", "/agent/vms/{name}/outgoing/parameters"),
  /** {@link HostAgent#resumeOutgoing} */
  OUTGOING_RESUME("POST", "/agent/vms/{name}/outgoing/resume"),
  /** {@link HostAgent#completeOutgoing}; query {@value Query#DELETE_SOURCE_IMAGES} */
  OUTGOING_COMPLETE("POST", "/agent/vms/{name}/outgoing/complete"),
  /** {@link HostAgent#reclaimOutgoing} */
  OUTGOING_RECLAIM("POST", "/agent/vms/{name}/outgoing/reclaim"),
  /** {@link HostAgent#unlockOutgoing} */
  OUTGOING_UNLOCK("POST", "/agent/vms/{name}/outgoing/unlock"),
  /** {@link HostAgent#memoryDigest} */
  MEMORY_DIGEST("GET", "/agent/vms/{name}/memory-digest"),
  /** {@link HostAgent#measureDirtyRate}; query {@value Query#CALC_TIME_S} */
  DIRTY_RATE_MEASURE("POST", "/agent/vms/{name}/dirty-rate"),
  /** {@link HostAgent#dirtyRate} */
  DIRTY_RATE("GET", "/agent/vms/{name}/dirty-rate"),
  /** {@link HostAgent#coldExport} */
  COLD_EXPORT_START("PUT", "/agent/vms/{name}/cold-export"),
  /** {@link HostAgent#stopColdExport}: 204 */
  COLD_EXPORT_STOP("DELETE", "/agent/vms/{name}/cold-export"),
  /** {@link HostAgent#sourceHashes} */
  COLD_EXPORT_HASHES("POST", "/agent/vms/{name}/cold-export/hashes"),
  /** {@link HostAgent#coldCopy} */
  COLD_COPY_START("PUT", "/agent/cold-copies/{id}"),
  /** {@link HostAgent#coldCopyStatus} */
  COLD_COPY_STATUS("GET", "/agent/cold-copies/{id}"),
  /** {@link HostAgent#cancelColdCopy}: the copy stopped, its images deleted */
  COLD_COPY_CANCEL("DELETE", "/agent/cold-copies/{id}"),
  /** {@link HostAgent#targetHashes} */
  COLD_COPY_HASHES("POST", "/agent/cold-copies/{id}/hashes"),
  /** {@link HostAgent#forgetColdCopy}: the images kept (a VM uses them now) */
  COLD_COPY_FORGET("POST", "/agent/cold-copies/{id}/forget"),
  /** {@link HostAgent#warmSource} */
  WARM_SOURCE_START("PUT", "/agent/vms/{name}/warm-source"),
  /** {@link HostAgent#warmSourceStatus} */
  WARM_SOURCE_STATUS("GET", "/agent/vms/{name}/warm-source"),
  /** {@link HostAgent#warmSourcePass} */
  WARM_SOURCE_PASS("POST", "/agent/vms/{name}/warm-source/passes"),
  /** {@link HostAgent#warmSourceShutdown} */
  WARM_SOURCE_SHUTDOWN("POST", "/agent/vms/{name}/warm-source/shutdown"),
  /** {@link HostAgent#warmSourceFinish}: bitmaps, exports and server removed, QEMU quit */
  WARM_SOURCE_FINISH("POST", "/agent/vms/{name}/warm-source/finish"),
  /** {@link HostAgent#warmSourceHashes} */
  WARM_SOURCE_HASHES("POST", "/agent/vms/{name}/warm-source/hashes"),
  /** {@link HostAgent#cancelWarmSource}: 204; bitmaps, exports and server removed, a powered-off guest booted again */
  WARM_SOURCE_CANCEL("DELETE", "/agent/vms/{name}/warm-source"),
  /** {@link HostAgent#warmCopy} */
  WARM_COPY_START("PUT", "/agent/warm-copies/{id}"),
  /** {@link HostAgent#warmCopyPass} */
  WARM_COPY_PASS("POST", "/agent/warm-copies/{id}/passes"),
  /** {@link HostAgent#warmCopyStatus} */
  WARM_COPY_STATUS("GET", "/agent/warm-copies/{id}"),
  /** {@link HostAgent#cancelWarmCopy}: the pass stopped, the images deleted */
  WARM_COPY_CANCEL("DELETE", "/agent/warm-copies/{id}"),
  /** {@link HostAgent#warmCopyHashes} */
  WARM_COPY_HASHES("POST", "/agent/warm-copies/{id}/hashes"),
  /** {@link HostAgent#attachWarmCopy} */
  WARM_COPY_ATTACH("POST", "/agent/warm-copies/{id}/attach"),
  /** {@link HostAgent#forgetWarmCopy}: the images kept (a VM uses them now) */
  WARM_COPY_FORGET("POST", "/agent/warm-copies/{id}/forget"),
  /** {@link HostAgent#ftSecondary} */
  FT_SECONDARY_PREPARE("PUT", "/agent/vms/{name}/ft-secondary"),
  /** {@link HostAgent#ftSecondaryStatus} */
  FT_SECONDARY_STATUS("GET", "/agent/vms/{name}/ft-secondary"),
  /** {@link HostAgent#removeFtSecondary}: 204 */
  FT_SECONDARY_REMOVE("DELETE", "/agent/vms/{name}/ft-secondary"),
  /** {@link HostAgent#ftProtect} */
  FT_PROTECT("POST", "/agent/vms/{name}/ft/protect"),
  /** {@link HostAgent#ftStatus} */
  FT_STATUS("GET", "/agent/vms/{name}/ft"),
  /** {@link HostAgent#ftUnprotect} */
  FT_UNPROTECT("POST", "/agent/vms/{name}/ft/unprotect"),
  /** {@link HostAgent#ftFence} */
  FT_FENCE("POST", "/agent/vms/{name}/ft/fence"),
  /** {@link HostAgent#ftSecondaryHeartbeat} */
  FT_SECONDARY_HEARTBEAT("GET", "/agent/vms/{name}/ft-secondary/heartbeat"),
  /** {@link HostAgent#ftTakeover} */
  FT_TAKEOVER("POST", "/agent/vms/{name}/ft-secondary/takeover");

  /** The query parameters of the agent's routes. */
  public static final class Query {
    public static final String DELETE_DISKS = "delete_disks";
    public static final String TIMEOUT_MS = "timeout_ms";
    public static final String OFFSET = "offset";
    public static final String TAIL = "tail";
    public static final String KEEP_SOURCE = "keep_source";
    public static final String DELETE_SOURCE_IMAGES = "delete_source_images";
    public static final String CALC_TIME_S = "calc_time_s";

    private Query() {}
  }

  // an enum's constructor cannot read its own static fields
  private static final class Template {
    static final Pattern PARAM = Pattern.compile("\\{([a-z]+)}");
  }

  private final String method;
  private final String template;
  private final List<String> params;

  AgentRoute(String method, String template) {
    this.method = method;
    this.template = template;
    List<String> names = new ArrayList<>();
    Matcher m = Template.PARAM.matcher(template);
    while (m.find()) names.add(m.group(1));
    this.params = List.copyOf(names);
  }

  /** {@code GET}, {@code PUT}, {@code POST} or {@code DELETE}. */
  public String method() {
    return method;
  }

  /** The path with {@code {name}}-style parameters, as HTTP routers take it. */
  public String template() {
    return template;
  }

  /** The names of the path parameters, in order. */
  public List<String> params() {
    return params;
  }

  /** The path with {@code values} in place of the parameters, in order. */
  public String path(String... values) {
    if (values.length != params.size()) {
      throw new IllegalArgumentException(this + " takes " + params.size() + " path parameters " + params
          + ", got " + values.length);
    }
    StringBuilder out = new StringBuilder();
    Matcher m = Template.PARAM.matcher(template);
    int i = 0;
    while (m.find()) {
      String v = values[i++];
      if (v == null || v.isEmpty() || v.indexOf('/') >= 0 || v.indexOf('?') >= 0) {
        throw new IllegalArgumentException(this + ": path parameter " + m.group(1) + " '" + v + "' is not one segment");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(v));
    }
    m.appendTail(out);
    return out.toString();
  }

  @Override
  public String toString() {
    return method + " " + template;
  }
}
