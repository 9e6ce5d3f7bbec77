package dev.ferry.app.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LiveReportTest {

  private static Map<String, Object> run(String method, long totalMs, long endToEndMs, long downtimeMs) {
    var r = new LinkedHashMap<String, Object>();
    r.put("method", method);
    r.put("converged", true);
    r.put("total_ms", totalMs);
    r.put("end_to_end_ms", endToEndMs);
    r.put("downtime_qemu_ms", downtimeMs);
    r.put("pause_ms", downtimeMs);
    r.put("postcopy_used", false);
    r.put("target_heartbeat_after_resume", true);
    return r;
  }

  @Test
  void markdown_ferryAndRawOnly_ratiosOfTheTwoAndTheFerryRowNamedTheControllersRun() {
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    runs.put("ferry", run("ferry", 800, 2000, 90));
    runs.put("raw", run("raw", 400, 1000, 45));
    var w = new LinkedHashMap<String, Object>();
    w.put("workload", "idle");
    w.put("runs", runs);
    w.put("ratios", LiveBench.ratios(runs));
    var report = new LinkedHashMap<String, Object>(Map.of("date", "d", "cpus", 2, "seconds_limit", 30L,
        "methods", List.of("ferry", "raw"), "workloads", List.of(w)));

    String md = LiveReport.markdown(report);

    assertThat(md).contains("the controller's own run").contains("`ferry migrate live VM --to HOST`")
        .contains("selected methods (ferry, raw)")
        .contains("| ferry | yes | 800 ms | 2000 ms | 90 ms |")
        .contains("ferry / raw total **2.0**, end to end **2.0**")
        .contains("(c) / (b) total **n/a**");
    assertThat(LiveBench.ratios(runs)).containsEntry("params_vs_ferry_total", null);
  }

  @Test
  void markdown_rawDowntimeZero_givesBothFiguresNotNaN() {
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    runs.put("ferry", run("ferry", 800, 2000, 60));
    runs.put("raw", run("raw", 700, 1000, 0));
    var w = new LinkedHashMap<String, Object>(Map.of("workload", "idle", "runs", runs, "ratios", LiveBench.ratios(runs)));
    var report = new LinkedHashMap<String, Object>(Map.of("date", "d", "cpus", 2, "seconds_limit", 30L,
        "methods", List.of("ferry", "raw"), "workloads", List.of(w)));

    String md = LiveReport.markdown(report);

    assertThat(md).doesNotContain("NaN").contains("60 ms QEMU downtime against raw's 0 ms");
  }
}
