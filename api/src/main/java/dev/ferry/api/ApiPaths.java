package dev.ferry.api;

import dev.ferry.api.agent.IncomingReady;
import dev.ferry.api.agent.IncomingRequest;
import dev.ferry.api.agent.IncomingStatus;
import dev.ferry.api.agent.MemoryDigest;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorRequest;
import dev.ferry.api.agent.MirrorStatus;
import dev.ferry.api.agent.OutgoingRequest;
import dev.ferry.api.agent.VerifyResult;

/**
 * Every REST path of the controller and the agents, in one place. Every endpoint requires
 * {@code Authorization: Bearer <cluster token>}.
 */
public final class ApiPaths {

  private ApiPaths() {}

  // controller
  public static final String HOSTS = "/api/hosts";
  public static final String POOLS = "/api/pools";
  public static final String VMS = "/api/vms";
  public static final String VM = "/api/vms/{name}";
  /** POST; {@code {action}} is start, stop (query {@code timeout_ms}), kill */
  public static final String VM_ACTION = "/api/vms/{name}/{action}";
  /** body {@link VmUnlockRequest}: ends the VM's stuck migration as failed, audited with the reason → {@link MigrationView} */
  public static final String VM_UNLOCK = "/api/vms/{name}/unlock";
  /** GET; query {@code offset} (bytes) or {@code tail} (lines) */
  public static final String VM_CONSOLE = "/api/vms/{name}/console";
  public static final String EVENTS = "/api/events";
  public static final String OPENAPI = "/api/openapi.json";
  public static final String HEARTBEAT = "/api/agents/heartbeat";
  /** GET: every migration, newest first */
  public static final String MIGRATIONS = "/api/migrations";
  /** POST {@link StorageMigrationRequest}: 201 {@link MigrationView} */
  public static final String MIGRATIONS_STORAGE = "/api/migrations/storage";
  /** POST {@link LiveMigrationRequest}: 201 {@link MigrationView} (kind {@code live}) */
  public static final String MIGRATIONS_LIVE = "/api/migrations/live";
  public static final String MIGRATION = "/api/migrations/{id}";
  /** POST: cancel; 409 after the point of no return, with the reason */
  public static final String MIGRATION_CANCEL = "/api/migrations/{id}/cancel";

  // agent
  public static final String AGENT_HOST = "/agent/host";
  public static final String AGENT_POOLS = "/agent/pools";
  public static final String AGENT_POOL = "/agent/pools/{name}";
  public static final String AGENT_VOLUMES = "/agent/volumes";
  public static final String AGENT_VOLUME = "/agent/volumes/{pool}/{name}";
  public static final String AGENT_VMS = "/agent/vms";
  public static final String AGENT_VM = "/agent/vms/{name}";
  public static final String AGENT_VM_ACTION = "/agent/vms/{name}/{action}";
  public static final String AGENT_VM_CONSOLE = "/agent/vms/{name}/console";
  /** PUT {@link MirrorRequest} starts moving a disk (mirror when running, offline copy when stopped); GET its {@link MirrorStatus} */
  public static final String AGENT_MIRROR = "/agent/vms/{name}/mirrors/{disk}";
  /** POST; {@code {step}} is pivot, cancel, verify (→ {@link VerifyResult}), release (query {@code keep_source}) */
  public static final String AGENT_MIRROR_STEP = "/agent/vms/{name}/mirrors/{disk}/{step}";

  /** PUT {@link IncomingRequest} → {@link IncomingReady}; GET {@link IncomingStatus}; DELETE rolls the target back */
  public static final String AGENT_VM_INCOMING = "/agent/vms/{name}/incoming";
  /** POST; {@code {step}} is finish (after QEMU completed: resume, the VM becomes this host's) */
  public static final String AGENT_VM_INCOMING_STEP = "/agent/vms/{name}/incoming/{step}";
  /** POST {@link OutgoingRequest} starts a live migration; GET its {@link MigrationStats} */
  public static final String AGENT_VM_OUTGOING = "/agent/vms/{name}/outgoing";
  /** POST; {@code {step}} is cancel, postcopy, complete (query {@code delete_source_images}) */
  public static final String AGENT_VM_OUTGOING_STEP = "/agent/vms/{name}/outgoing/{step}";
  /** GET {@link MemoryDigest} of a paused guest */
  public static final String AGENT_VM_MEMORY_DIGEST = "/agent/vms/{name}/memory-digest";

  /** request bodies above this are refused with 413 before they are parsed */
  public static final int MAX_BODY_BYTES = 1 << 20;

  /**
   * An oversized body up to this size is read and thrown away before the 413 goes out: a server
   * that answers without reading it closes the connection under a client still sending, and the
   * client sees a reset instead of the answer. Beyond this the connection is simply closed.
   */
  public static final int DRAIN_BYTES = 8 << 20;

  /** {@link #AGENT_VM} for one VM, the base of every per-VM agent call. */
  public static String agentVm(String name) {
    return "/agent/vms/" + name;
  }

  /** Reads and discards what is left of an oversized body, at most {@link #DRAIN_BYTES}. */
  public static void drain(java.io.InputStream in) {
    try {
      byte[] buf = new byte[64 << 10];
      long left = DRAIN_BYTES;
      for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) left -= n;
    } catch (java.io.IOException | RuntimeException e) {
      // the 413 is what matters; a client that stopped sending gets it or a reset
    }
  }
}
