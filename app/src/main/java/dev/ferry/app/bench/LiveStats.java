package dev.ferry.app.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Several runs of one method on one workload, reduced: medians with their spread (min and max)
 * over the runs that completed, how many runs ended how, and Ferry against the best peer.
 */
final class LiveStats {

  /** figures taken over completed runs only: a cancelled run has no downtime and a cut-off total */
  static final List<String> TIMES = List.of("total_ms", "end_to_end_ms", "downtime_qemu_ms", "pause_ms", "bytes_sent",
      "silence_ms", "silence_minus_downtime_ms", "source_stop_to_target_resume_ms", "completed_to_target_resume_ms",
      "first_reply_after_resume_ms", "predicted_total_ms", "predicted_downtime_ms", "control_cpu_share");
  static final List<String> PEERS = List.of("libvirt", "proxmox", "kubevirt", "nova");

  private LiveStats() {}

  static Map<String, Object> summary(List<Map<String, Object>> runs) {
    var out = new LinkedHashMap<String, Object>();
    var outcomes = new TreeMap<String, Integer>();
    for (var r : runs) outcomes.merge(String.valueOf(r.get("outcome")), 1, Integer::sum);
    out.put("runs", runs.size());
    out.put("outcomes", outcomes);
    var done = runs.stream().filter(r -> Boolean.TRUE.equals(r.get("converged"))).toList();
    out.put("completed", done.size());
    for (String k : TIMES) out.put(k, spread(done.stream().map(r -> num(r.get(k))).toList()));
    out.put("downtime_ms", spread(done.stream().map(LiveStats::downtime).toList()));
    // the guest's own speed during the migration against before it, where it has a writer
    out.put("guest_rate_during_vs_before", spread(runs.stream().map(LiveStats::slowdown).toList()));
    out.put("prediction_error_total", spread(done.stream().map(r -> error(r.get("predicted_total_ms"), r.get("total_ms"))).toList()));
    out.put("prediction_error_downtime",
        spread(done.stream().map(r -> error(r.get("predicted_downtime_ms"), downtime(r))).toList()));
    return out;
  }

  /**
   * QEMU's downtime, or the source's STOP → completed where QEMU reported 0 (7.2 does for some
   * completed migrations, see qemu-notes; the controller's record makes the same substitution)
   */
  static double downtime(Map<String, Object> r) {
    double q = num(r.get("downtime_qemu_ms"));
    return q > 0 ? q : num(r.get("pause_ms"));
  }

  /** (predicted − actual) / actual, NaN when either is missing */
  static double error(Object predicted, Object actual) {
    double p = num(predicted);
    double a = num(actual);
    if (Double.isNaN(p) || Double.isNaN(a) || a <= 0) return Double.NaN;
    return (p - a) / a;
  }

  static double slowdown(Map<String, Object> r) {
    double before = num(r.get("guest_rate_before_mib_s"));
    double during = num(r.get("guest_rate_during_mib_s"));
    if (Double.isNaN(before) || Double.isNaN(during) || before <= 0) return Double.NaN;
    return during / before;
  }

  /** {median, min, max, n} of the numbers present, or null when there are none */
  static Map<String, Object> spread(List<Double> values) {
    var v = values.stream().filter(d -> !Double.isNaN(d)).sorted().toList();
    if (v.isEmpty()) return null;
    var m = new LinkedHashMap<String, Object>();
    m.put("median", StorageBench.round(median(v)));
    m.put("min", StorageBench.round(v.getFirst()));
    m.put("max", StorageBench.round(v.getLast()));
    m.put("n", v.size());
    return m;
  }

  static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The completed run whose total is the median (the lower one of an even count), else the first run. */
  static Map<String, Object> representative(List<Map<String, Object>> runs) {
    var done = new ArrayList<>(runs.stream().filter(r -> Boolean.TRUE.equals(r.get("converged")) && r.get("total_ms") instanceof Number)
        .toList());
    if (done.isEmpty()) return runs.getFirst();
    done.sort(Comparator.comparingDouble(r -> num(r.get("total_ms"))));
    return done.get((done.size() - 1) / 2);
  }

  /** the median of a summary's figure, NaN without one */
  @SuppressWarnings("unchecked")
  static double med(Map<String, Object> summary, String key) {
    if (summary == null || !(summary.get(key) instanceof Map<?, ?> m)) return Double.NaN;
    return num(((Map<String, Object>) m).get("median"));
  }

  /**
   * Ferry's medians against the peers that completed every run: its downtime over the best peer's
   * (goal ≤ 1), its total over the fastest peer's (goal ≤ 1.1).
   */
  static Map<String, Object> ferryVsPeers(Map<String, Map<String, Object>> medians) {
    var ferry = medians.get("ferry");
    if (ferry == null) return null;
    String bestDown = null;
    String fastest = null;
    for (String p : PEERS) {
      var s = medians.get(p);
      if (s == null || !s.get("completed").equals(s.get("runs"))) continue;
      if (bestDown == null || med(s, "downtime_ms") < med(medians.get(bestDown), "downtime_ms")) bestDown = p;
      if (fastest == null || med(s, "total_ms") < med(medians.get(fastest), "total_ms")) fastest = p;
    }
    var out = new LinkedHashMap<String, Object>();
    out.put("ferry_completed", ferry.get("completed") + " of " + ferry.get("runs"));
    out.put("peers_completing_every_run", PEERS.stream().filter(p -> medians.get(p) != null
        && medians.get(p).get("completed").equals(medians.get(p).get("runs"))).toList());
    if (bestDown != null) {
      out.put("best_peer_downtime", bestDown);
      out.put("ferry_vs_best_peer_downtime", ratio(med(ferry, "downtime_ms"), med(medians.get(bestDown), "downtime_ms")));
      out.put("fastest_peer", fastest);
      out.put("ferry_vs_fastest_peer_total", ratio(med(ferry, "total_ms"), med(medians.get(fastest), "total_ms")));
    }
    return out;
  }

  private static Object ratio(double a, double b) {
    if (Double.isNaN(a) || Double.isNaN(b) || b == 0) return null;
    return StorageBench.ratio(a, b);
  }

  /** A workload's figures from its samples: medians per method, the median runs, the ratios, Ferry against the peers. */
  @SuppressWarnings("unchecked")
  static void summarize(Map<String, Object> wr) {
    var samples = (Map<String, List<Map<String, Object>>>) wr.get("samples");
    var medians = new LinkedHashMap<String, Map<String, Object>>();
    var runs = new LinkedHashMap<String, Map<String, Object>>();
    for (var e : samples.entrySet()) {
      medians.put(e.getKey(), summary(e.getValue()));
      runs.put(e.getKey(), representative(e.getValue()));
    }
    wr.put("medians", medians);
    // the run whose total is the median, per method: the detail tables and the ratios use it
    wr.put("runs", runs);
    wr.put("ratios", LiveBench.ratios(runs));
    wr.put("ferry_vs_peers", ferryVsPeers(medians));
  }

  /** the progress line after a run */
  static String brief(Map<String, Object> one) {
    return String.format(Locale.ROOT, "%s: %s, total %s, downtime %s, sent %s, passes %s%s", one.get("method"), one.get("outcome"),
        ms(one.get("total_ms")), ms(one.get("downtime_qemu_ms")),
        one.get("bytes_sent") instanceof Number n ? String.format(Locale.ROOT, "%.1f MiB", n.doubleValue() / 1048576) : "-",
        one.get("passes"), one.get("reason") != null ? " (" + one.get("reason") + ")" : "");
  }

  static double num(Object v) {
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static String ms(Object v) {
    return v instanceof Number n ? n.longValue() + " ms" : "-";
  }
}
