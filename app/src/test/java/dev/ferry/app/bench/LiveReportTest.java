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

  @Test
  void markdown_clientFigures_tableRowGoalAndWhereTheSilenceWent() {
    var raw = run("raw", 700, 1000, 20);
    raw.putAll(Map.of("silence_ms", 150.4, "silence_minus_downtime_ms", 130.4, "silence_at_switchover_ms", 150.4,
        "source_stop_to_target_resume_ms", 110.0, "completed_to_target_resume_ms", 90.0, "first_reply_after_resume_ms", 35.2,
        "stream_clean", true));
    var ferry = run("ferry", 600, 900, 40);
    ferry.putAll(Map.of("silence_ms", 85.0, "silence_minus_downtime_ms", 45.0, "silence_at_switchover_ms", 85.0,
        "source_stop_to_target_resume_ms", 60.0, "completed_to_target_resume_ms", 20.0, "first_reply_after_resume_ms", 20.0,
        "stream_clean", false, "stream_problems", List.of("line 7 where 6 was due (gap, duplicate or reorder)")));
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    runs.put("raw", raw);
    runs.put("ferry", ferry);
    var w = new LinkedHashMap<String, Object>(Map.of("workload", "idle", "runs", runs, "ratios", LiveBench.ratios(runs)));
    var report = new LinkedHashMap<String, Object>(Map.of("date", "d", "cpus", 2, "seconds_limit", 30L,
        "methods", List.of("raw", "ferry"), "workloads", List.of(w), "network", "bridge fyb1, subnet 10.64.1.0/24"));

    String md = LiveReport.markdown(report);

    assertThat(md).contains("bridge fyb1, subnet 10.64.1.0/24")
        .contains("| raw | 150 ms | 130 ms | **no** | 150 ms | 110 ms | 90 ms | 35 ms | yes |")
        .contains("| ferry | 85 ms | 45 ms | yes | 85 ms | 60 ms | 20 ms | 20 ms | **no**: [line 7 where 6 was due")
        .contains("**idle**, the client's longest silence beyond QEMU's downtime: raw +130 ms: the goal (≤ +50 ms) is"
            + " **not met** (met by ferry +45 ms).")
        .contains("means over the 2 switchovers of this run").contains("(85 ms)").contains("1 connection(s) were not clean");
  }

  @Test
  void markdown_noNetwork_saysWhyAndHasNoClientTable() {
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    runs.put("raw", run("raw", 700, 1000, 20));
    var w = new LinkedHashMap<String, Object>(Map.of("workload", "idle", "runs", runs, "ratios", LiveBench.ratios(runs)));
    var report = new LinkedHashMap<String, Object>(Map.of("date", "d", "cpus", 2, "seconds_limit", 30L,
        "methods", List.of("raw"), "workloads", List.of(w), "no_network_because", "it needs root (network namespaces, a bridge)"));

    String md = LiveReport.markdown(report);

    assertThat(md).contains("**No connected client in this run** (it needs root (network namespaces, a bridge))")
        .doesNotContain("What the connected client saw").doesNotContain("Where the silence goes");
  }

  @Test
  void markdown_severalRunsAndPeers_oneTableOfMediansFerryAgainstTheBestPeerPlotAndReproduceCommand(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    var samples = new LinkedHashMap<String, List<Map<String, Object>>>();
    var ferryRuns = new java.util.ArrayList<Map<String, Object>>();
    for (long t : new long[] {900, 1000, 1100}) {
      var r = run("ferry", t, t + 500, 40);
      r.put("outcome", "converged");
      r.put("predicted_total_ms", 1000L);
      r.put("predicted_downtime_ms", 50L);
      r.put("pass_log", List.of(Map.of("pass", 2L, "remaining_bytes", 30L << 20, "dirty_rate_bytes_s", 20L << 20)));
      ferryRuns.add(r);
    }
    var novaRuns = new java.util.ArrayList<Map<String, Object>>();
    for (long t : new long[] {800, 850, 2000}) {
      var r = run("nova", t, t + 100, 30);
      r.put("outcome", "converged");
      novaRuns.add(r);
    }
    samples.put("ferry", ferryRuns);
    samples.put("nova", novaRuns);
    var medians = new LinkedHashMap<String, Map<String, Object>>();
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    for (var e : samples.entrySet()) {
      medians.put(e.getKey(), LiveStats.summary(e.getValue()));
      runs.put(e.getKey(), LiveStats.representative(e.getValue()));
    }
    var w = new LinkedHashMap<String, Object>(Map.of("workload", "hot-16", "samples", samples, "medians", medians,
        "runs", runs, "ratios", LiveBench.ratios(runs), "ferry_vs_peers", LiveStats.ferryVsPeers(medians)));
    var report = new LinkedHashMap<String, Object>(Map.of("date", "d", "cpus", 2, "seconds_limit", 15L,
        "methods", List.of("ferry", "nova"), "workloads", List.of(w), "runs_per_cell", 3, "loadavg_start", "5.1 4.0 3.0",
        "loadavg_end", "6.0 5.0 4.0", "command", "./ferry bench live --runs 3"));

    String md = LiveReport.markdown(report);
    LivePlot.write(report, dir.resolve("live-passes.png"));

    assertThat(md).contains("Reproduce: `./ferry bench live --runs 3`").contains("5.1 4.0 3.0")
        .contains("![per-pass remaining vs dirty rate](live-passes.png)")
        .contains("| hot-16 | ferry | 3× converged | 1000 ms [900 – 1100] n=3 | 40 ms [40 – 40] n=3 |")
        .contains("| hot-16 | 3 of 3 | [nova] | **1.33** (vs nova) | **1.18** (vs nova) |")
        .contains("downtime goal **missed** by 33 %")
        .contains("median error of the predicted total +0 %");
    byte[] png = java.nio.file.Files.readAllBytes(dir.resolve("live-passes.png"));
    assertThat(java.util.Arrays.copyOf(png, 4)).isEqualTo(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
  }
}
