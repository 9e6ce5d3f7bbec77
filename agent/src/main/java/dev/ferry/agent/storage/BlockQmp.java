package dev.ferry.agent.storage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The block-layer QMP a storage move needs, each call with a deadline, and the observations its
 * steps make before they act (does the node, the job, the export, the bitmap exist?).
 */
final class BlockQmp {

  static final Duration CALL = Duration.ofSeconds(30);

  private final QmpClient qmp;

  BlockQmp(QmpClient qmp) {
    this.qmp = qmp;
  }

  /** A block job as {@code query-block-jobs} reports it. */
  record Job(String id, String status, boolean ready, long offset, long length, String error) {
    boolean concluded() {
      return status.equals("concluded") || status.equals("null");
    }
  }

  JsonNode call(String command, Map<String, ?> args) {
    return qmp.call(command, args, CALL);
  }

  Optional<Job> job(String id) {
    for (JsonNode j : call("query-block-jobs", Map.of())) {
      if (j.path("device").asText().equals(id)) {
        return Optional.of(new Job(id, j.path("status").asText(), j.path("ready").asBoolean(),
            j.path("offset").asLong(), j.path("len").asLong(),
            j.hasNonNull("error") ? j.get("error").asText() : null));
      }
    }
    return Optional.empty();
  }

  /** The status of a job from {@code query-jobs} (which also lists jobs that are not block jobs), or empty. */
  Optional<String> jobStatus(String id) {
    for (JsonNode j : call("query-jobs", Map.of())) {
      if (j.path("id").asText().equals(id)) return Optional.of(j.path("status").asText());
    }
    return Optional.empty();
  }

  /**
   * Waits until job {@code id} is concluded (or gone), polling {@code query-jobs} and waking up on
   * every {@code JOB_STATUS_CHANGE} of it.
   */
  void awaitConcluded(String id, Duration deadline) {
    long until = System.nanoTime() + deadline.toNanos();
    while (true) {
      Optional<String> st = jobStatus(id);
      if (st.isEmpty() || st.get().equals("concluded") || st.get().equals("null")) return;
      long left = until - System.nanoTime();
      if (left <= 0) {
        throw new AgentException(Kind.UNAVAILABLE, "block job " + id + " did not conclude within " + deadline
            + " (status " + st.get() + ")");
      }
      try {
        qmp.awaitEvent(e -> e.name().equals("JOB_STATUS_CHANGE") && e.data().path("id").asText().equals(id),
            Duration.ofNanos(Math.min(left, Duration.ofMillis(500).toNanos())));
      } catch (QmpTimeoutException e) {
        // poll again
      }
    }
  }

  void dismissIfConcluded(String id) {
    Optional<String> st = jobStatus(id);
    if (st.isPresent() && st.get().equals("concluded")) call("job-dismiss", Map.of("id", id));
  }

  /** Every node name of the block graph. */
  Set<String> nodeNames() {
    var names = new HashSet<String>();
    for (JsonNode n : call("query-named-block-nodes", Map.of("flat", true))) names.add(n.path("node-name").asText());
    return names;
  }

  /** The names of the dirty bitmaps on {@code node}. */
  Set<String> bitmaps(String node) {
    var names = new HashSet<String>();
    for (JsonNode n : call("query-named-block-nodes", Map.of("flat", true))) {
      if (!n.path("node-name").asText().equals(node)) continue;
      for (JsonNode b : n.path("dirty-bitmaps")) names.add(b.path("name").asText());
    }
    return names;
  }

  /** The format node a device (by qdev id, e.g. {@code disk0-dev}) reads and writes, or empty. */
  Optional<String> deviceNode(String deviceId) {
    for (JsonNode b : call("query-block", Map.of())) {
      String qdev = b.path("qdev").asText();
      if (qdev.equals(deviceId) || qdev.startsWith("/machine/peripheral/" + deviceId + "/")) {
        JsonNode inserted = b.path("inserted");
        return inserted.isMissingNode() ? Optional.empty() : Optional.of(inserted.path("node-name").asText());
      }
    }
    return Optional.empty();
  }

  void addFileNode(String nodeName, String path) {
    var args = new LinkedHashMap<String, Object>();
    args.put("driver", "file");
    args.put("node-name", nodeName);
    args.put("filename", path);
    args.put("cache", Map.of("direct", false, "no-flush", false));
    call("blockdev-add", args);
  }

  void addFormatNode(String nodeName, String driver, String fileNode) {
    call("blockdev-add", Map.of("driver", driver, "node-name", nodeName, "file", fileNode));
  }

  void deleteNodeIfPresent(String nodeName) {
    if (nodeNames().contains(nodeName)) call("blockdev-del", Map.of("node-name", nodeName));
  }

  void mirror(String jobId, String device, String target, long speed) {
    var args = new LinkedHashMap<String, Object>();
    args.put("job-id", jobId);
    args.put("device", device);
    args.put("target", target);
    args.put("sync", "full");
    args.put("copy-mode", "write-blocking");
    args.put("auto-dismiss", false);
    if (speed > 0) args.put("speed", speed);
    call("blockdev-mirror", args);
  }

  /** Starts the NBD server on a UNIX socket; false if one was already running (then it is not ours to stop). */
  boolean startNbdServer(String socket) {
    try {
      call("nbd-server-start", Map.of("addr", Map.of("type", "unix", "data", Map.of("path", socket))));
      return true;
    } catch (QmpErrorException e) {
      if (e.desc().contains("already running")) return false;
      throw e;
    }
  }

  List<String> exports() {
    var ids = new java.util.ArrayList<String>();
    for (JsonNode e : call("query-block-exports", Map.of())) ids.add(e.path("id").asText());
    return ids;
  }

  void addExport(String id, String node, List<String> bitmaps) {
    var args = new LinkedHashMap<String, Object>();
    args.put("type", "nbd");
    args.put("id", id);
    args.put("node-name", node);
    args.put("name", id);
    args.put("writable", false);
    if (!bitmaps.isEmpty()) args.put("bitmaps", bitmaps);
    call("block-export-add", args);
  }

  /** block-export-del is asynchronous: waits for BLOCK_EXPORT_DELETED before the id may be reused. */
  void deleteExport(String id) {
    if (!exports().contains(id)) return;
    try {
      call("block-export-del", Map.of("id", id));
      qmp.awaitEvent(e -> e.name().equals("BLOCK_EXPORT_DELETED") && e.data().path("id").asText().equals(id),
          Duration.ofSeconds(10));
    } catch (QmpErrorException e) {
      if (exports().contains(id)) throw e;
    } catch (QmpTimeoutException e) {
      if (exports().contains(id)) throw e;
    }
  }

  /** A QMP failure as the text a status or log line shows. */
  static String describe(QmpException e) {
    return e instanceof QmpErrorException q ? q.desc() : String.valueOf(e.getMessage());
  }
}
