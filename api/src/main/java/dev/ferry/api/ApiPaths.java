package dev.ferry.api;

/**
 * Every REST path of the controller, in one place; the agents' are {@link dev.ferry.api.agent.AgentRoute}.
 * Every endpoint requires {@code Authorization: Bearer <token>}: a user token, whose role must
 * allow the route (the controller's {@code rest/Access} table), or, for the heartbeat only, the
 * host's own credential.
 *
 * <ul>
 *   <li>{@code GET /api/hosts}: every {@link HostView}
 *   <li>{@code GET /api/pools}, {@code POST /api/pools} ({@link PoolCreateRequest}): {@link PoolView}s
 *   <li>{@code GET /api/networks}, {@code POST /api/networks} ({@link NetworkCreateRequest}),
 *       {@code GET /api/networks/{name}}: {@link NetworkView}s
 *   <li>{@code GET /api/vms}, {@code POST /api/vms} ({@link VmCreateRequest} → 201 {@link VmView})
 *   <li>{@code GET /api/vms/{name}}, {@code DELETE /api/vms/{name}}
 *   <li>{@code POST /api/vms/{name}/start|stop|kill} (stop: query {@code timeout_ms})
 *   <li>{@code GET /api/vms/{name}/console} (query {@code offset} or {@code tail}): {@link ConsoleChunk}
 *   <li>{@code GET /api/events}: server-sent {@link Event}s
 *   <li>{@code GET /api/openapi.json}: this API as OpenAPI 3.1
 *   <li>{@code POST /api/agents/heartbeat} ({@link dev.ferry.api.agent.AgentHeartbeat}): agents only
 *   <li>{@code GET /api/migrations}, {@code GET /api/migrations/{id}}: {@link MigrationView}s
 *   <li>{@code POST /api/migrations/storage} ({@link StorageMigrationRequest}),
 *   <li>{@code POST /api/migrations/cold} ({@link ColdMigrationRequest}),
 *   <li>{@code POST /api/migrations/warm} ({@link WarmMigrationRequest}),
 *       {@code POST /api/migrations/live} ({@link LiveMigrationRequest}): 201 {@link MigrationView}
 *   <li>{@code POST /api/migrations/{id}/cancel}: 409 after the point of no return
 *   <li>{@code POST /api/migrations/{id}/cutover}: a warm migration waiting for a manual cutover begins it
 * </ul>
 */
public final class ApiPaths {

  private ApiPaths() {}

  public static final String HOSTS = "/api/hosts";
  public static final String POOLS = "/api/pools";
  public static final String NETWORKS = "/api/networks";
  public static final String NETWORK = "/api/networks/{name}";
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
  public static final String MIGRATIONS_COLD = "/api/migrations/cold";
  /** POST {@link WarmMigrationRequest}: 201 {@link MigrationView} (kind {@code warm}) */
  public static final String MIGRATIONS_WARM = "/api/migrations/warm";
  /** POST {@link LiveMigrationRequest}: 201 {@link MigrationView} (kind {@code live}) */
  public static final String MIGRATIONS_LIVE = "/api/migrations/live";
  /** POST {@link LiveMigrationRequest}: 200 {@link MigrationPrediction}; the same preflight, nothing recorded */
  public static final String MIGRATIONS_LIVE_DRY_RUN = "/api/migrations/live/dry-run";
  public static final String MIGRATION = "/api/migrations/{id}";
  /** GET: every VM under fault tolerance ({@link FtStatusView}); POST {@link FtEnableRequest} → 201 {@link FtStatusView} */
  public static final String FT = "/api/ft";
  /** GET {@link FtStatusView}; DELETE: disable (back to a plain VM on the primary) → {@link FtStatusView} */
  public static final String FT_VM = "/api/ft/{name}";
  /** POST: planned failover to the secondary; 200 {@link FtStatusView} once the secondary runs the VM */
  public static final String FT_FAILOVER = "/api/ft/{name}/failover";
  /** POST: cancel; 409 after the point of no return, with the reason */
  public static final String MIGRATION_CANCEL = "/api/migrations/{id}/cancel";
  /** POST: a warm migration begins its cutover now; 409 for another kind or once the cutover began */
  public static final String MIGRATION_CUTOVER = "/api/migrations/{id}/cutover";

  /** GET: user tokens (never their secrets); POST {@link dev.ferry.api.auth.TokenCreateRequest} → 201 {@link dev.ferry.api.auth.TokenCreated} */
  public static final String TOKENS = "/api/tokens";
  /** DELETE: revoke the token; it is refused from the next request on */
  public static final String TOKEN = "/api/tokens/{name}";
  /** POST: a new credential for host {@code name} (replacing any earlier one) → 201 {@link dev.ferry.api.auth.HostCredential} */
  public static final String HOST_CREDENTIAL = "/api/hosts/{name}/credential";
  /** GET: mutating calls, newest first; query {@code limit}, {@code before} (an id), {@code actor}, {@code action} */
  public static final String AUDIT = "/api/audit";

  /** request bodies above this are refused with 413 before they are parsed */
  public static final int MAX_BODY_BYTES = 1 << 20;

  /**
   * An oversized body up to this size is read and thrown away before the 413 goes out: a server
   * that answers without reading it closes the connection under a client still sending, and the
   * client sees a reset instead of the answer. Beyond this the connection is simply closed.
   */
  public static final int DRAIN_BYTES = 8 << 20;

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
