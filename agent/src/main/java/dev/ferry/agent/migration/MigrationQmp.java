package dev.ferry.agent.migration;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.agent.MigrationStats;
import dev.ferry.api.agent.MirrorProgress;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The QMP a live migration needs on either host, every call with a deadline, and the
 * observations its steps make before they act (is a migration under way, does the node, the job,
 * the export exist?).
 */
final class MigrationQmp {

  static final Duration CALL = Duration.ofSeconds(30);

  private final QmpClient qmp;

  MigrationQmp(QmpClient qmp) {
    this.qmp = qmp;
  }

  QmpClient qmpClient() {
    return qmp;
  }

  JsonNode call(String command, Map<String, ?> args) {
    return qmp.call(command, args, CALL);
  }

  void setCapabilities(Map<String, Boolean> caps) {
    if (caps.isEmpty()) return;
    var list = new ArrayList<Map<String, Object>>();
    caps.forEach((k, v) -> list.add(Map.of("capability", k, "state", v)));
    call("migrate-set-capabilities", Map.of("capabilities", list));
  }

  void setParameters(Map<String, Object> params) {
    if (!params.isEmpty()) call("migrate-set-parameters", params);
  }

  JsonNode queryMigrate() {
    return call("query-migrate", Map.of());
  }

  static String status(JsonNode queryMigrate) {
    return queryMigrate.path("status").asText("none");
  }

  /** A migration of this QEMU is under way (not yet completed, failed or cancelled). */
  static boolean underWay(String status) {
    return switch (status) {
      case "none", "completed", "failed", "cancelled" -> false;
      default -> true;
    };
  }

  record RunState(String status, boolean running) {}

  RunState runState() {
    JsonNode st = call("query-status", Map.of());
    return new RunState(st.path("status").asText(), st.path("running").asBoolean());
  }

  /** A block job as {@code query-jobs} reports it; empty when no such job exists. */
  record Job(String status, String error) {
    boolean concluded() {
      return status.equals("concluded") || status.equals("null");
    }
  }

  Optional<Job> job(String id) {
    for (JsonNode j : call("query-jobs", Map.of())) {
      if (j.path("id").asText().equals(id)) {
        return Optional.of(new Job(j.path("status").asText(), j.hasNonNull("error") ? j.get("error").asText() : null));
      }
    }
    return Optional.empty();
  }

  Map<String, JsonNode> blockJobs() {
    var jobs = new LinkedHashMap<String, JsonNode>();
    for (JsonNode j : call("query-block-jobs", Map.of())) jobs.put(j.path("device").asText(), j);
    return jobs;
  }

  /** Waits until job {@code id} concluded or is gone, waking on its JOB_STATUS_CHANGE. */
  void awaitConcluded(String id, Duration deadline) {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      Optional<Job> j = job(id);
      if (j.isEmpty() || j.get().concluded()) return;
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AgentException(Kind.UNAVAILABLE, "block job " + id + " did not conclude within " + deadline
            + " (status " + j.get().status() + ")");
      }
      try {
        qmp.awaitEvent(e -> e.name().equals("JOB_STATUS_CHANGE") && e.data().path("id").asText().equals(id),
            Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())));
      } catch (QmpTimeoutException e) {
        // poll again
      }
    }
  }

  void dismissIfConcluded(String id) {
    Optional<Job> j = job(id);
    if (j.isPresent() && j.get().status().equals("concluded")) call("job-dismiss", Map.of("id", id));
  }

  Set<String> nodeNames() {
    var names = new HashSet<String>();
    for (JsonNode n : call("query-named-block-nodes", Map.of("flat", true))) names.add(n.path("node-name").asText());
    return names;
  }

  void deleteNodeIfPresent(String node) {
    if (nodeNames().contains(node)) call("blockdev-del", Map.of("node-name", node));
  }

  List<String> exports() {
    var ids = new ArrayList<String>();
    for (JsonNode e : call("query-block-exports", Map.of())) ids.add(e.path("id").asText());
    return ids;
  }

  /**
   * Removes an export, dropping its client ({@code hard}: the migration is over, the source's
   * mirror was cancelled before switchover). Asynchronous in QEMU: waits for BLOCK_EXPORT_DELETED.
   */
  void deleteExport(String id) {
    if (!exports().contains(id)) return;
    try {
      call("block-export-del", Map.of("id", id, "mode", "hard"));
      qmp.awaitEvent(e -> e.name().equals("BLOCK_EXPORT_DELETED") && e.data().path("id").asText().equals(id),
          Duration.ofSeconds(10));
    } catch (QmpErrorException | QmpTimeoutException e) {
      if (exports().contains(id)) throw e;
    }
  }

  /** Starts QEMU's NBD server on TCP; false when one already runs (a retry). */
  boolean startNbdServer(String host, int port) {
    try {
      call("nbd-server-start", Map.of("addr", Map.of("type", "inet",
          "data", Map.of("host", host, "port", Integer.toString(port)))));
      return true;
    } catch (QmpErrorException e) {
      if (e.desc().toLowerCase(java.util.Locale.ROOT).contains("already running")) return false;
      throw e;
    }
  }

  void stopNbdServer() {
    try {
      call("nbd-server-stop", Map.of());
    } catch (QmpErrorException e) {
      if (!e.desc().toLowerCase(java.util.Locale.ROOT).contains("not running")) throw e;
    }
  }

  /** QEMU's numbers as the API reports them; mirrors and the agent's own timings are added by the caller. */
  static MigrationStats stats(String migrationId, String phase, JsonNode qm, List<MirrorProgress> mirrors,
      Long pauseMs, Long switchoverMs, Long wallTimeMs, Long elapsedMs, String error) {
    JsonNode ram = qm.path("ram");
    long pageSize = ram.path("page-size").asLong(4096);
    String err = error != null ? error : qm.hasNonNull("error-desc") ? qm.get("error-desc").asText() : null;
    return new MigrationStats(migrationId, phase, status(qm), optLong(qm, "total-time"), optLong(qm, "setup-time"),
        optLong(qm, "downtime"), optLong(qm, "expected-downtime"), ram.path("transferred").asLong(),
        ram.path("remaining").asLong(), ram.path("total").asLong(), ram.path("dirty-pages-rate").asLong() * pageSize,
        ram.path("mbps").asDouble(), ram.path("dirty-sync-count").asLong(), ram.path("postcopy-requests").asLong(),
        mirrors, pauseMs, switchoverMs, wallTimeMs, elapsedMs, err);
  }

  private static Long optLong(JsonNode n, String field) {
    return n.hasNonNull(field) ? n.get(field).asLong() : null;
  }

  /** A QMP failure as the text a status or log line shows. */
  static String describe(RuntimeException e) {
    return e instanceof QmpErrorException q ? q.desc() : String.valueOf(e.getMessage());
  }

  static boolean isQmp(RuntimeException e) {
    return e instanceof QmpException;
  }
}
