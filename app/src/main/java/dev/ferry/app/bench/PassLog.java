package dev.ferry.app.bench;

import dev.ferry.api.agent.MigrationStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One row per pre-copy pass as the bench saw it: the first sample after QEMU's dirty-sync count
 * changed, so remaining is (close to) what that sync found dirty, next to the dirty rate QEMU
 * measured over the pass before. The plot draws these.
 */
final class PassLog {

  private final List<Map<String, Object>> rows = new ArrayList<>();
  private long lastPass = -1;

  void note(long elapsedMs, MigrationStats s) {
    if (s == null || s.status() == null || s.passes() == lastPass || s.ramTotalBytes() == 0) return;
    lastPass = s.passes();
    var r = new LinkedHashMap<String, Object>();
    r.put("pass", s.passes());
    r.put("t_ms", elapsedMs);
    r.put("remaining_bytes", s.ramRemainingBytes());
    r.put("dirty_rate_bytes_s", s.dirtyRateBytesPerS());
    r.put("mbps", StorageBench.round(s.mbps()));
    r.put("transferred_bytes", s.ramTransferredBytes());
    rows.add(r);
  }

  List<Map<String, Object>> rows() {
    return List.copyOf(rows);
  }
}
