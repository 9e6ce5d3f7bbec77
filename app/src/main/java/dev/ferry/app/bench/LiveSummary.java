package dev.ferry.app.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The head of the live report: one table of medians and spreads over every run of every cell,
 * Ferry against the best peer per workload, the prediction's error, the plot, the peers' sources.
 */
final class LiveSummary {

  private LiveSummary() {}

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    var b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Reproduce: `%s` (about %s s here). Load average (1, 5, 15 min) %s at the start, %s at"
        + " the end: the machine (%s cpus) is shared with other engineers' builds and test QEMUs, so read the spreads, not"
        + " single figures.%n%n", r.getOrDefault("command", "./ferry bench live"), r.get("bench_seconds"), r.get("loadavg_start"),
        r.get("loadavg_end"), r.get("cpus")));
    var notRun = new ArrayList<String>();
    var methods = r.get("methods") instanceof List<?> l ? l : List.of();
    for (String m : List.of("ferry", "libvirt", "proxmox", "kubevirt", "nova")) if (!methods.contains(m)) notRun.add("method " + m);
    var ran = ((List<Map<String, Object>>) r.get("workloads")).stream().map(w -> w.get("workload")).toList();
    for (var w : LiveBench.WORKLOADS) if (!ran.contains(w.name())) notRun.add("workload " + w.name());
    if (!notRun.isEmpty()) {
      b.append("Not in this run (one run must fit 30 minutes of the machine's shared QEMU lock): ").append(String.join(", ", notRun))
          .append(methods.contains("kubevirt") ? "" : "; KubeVirt's defaults give QEMU exactly libvirt's settings (unlimited"
              + " bandwidth, QEMU's 300 ms, no capabilities) and differ only in timeouts of 150 s and more, which never fire"
              + " within this bench's limit, so its row would repeat libvirt's (`--methods kubevirt` runs it)")
          .append(".\n\n");
    }
    b.append("![per-pass remaining vs dirty rate](live-passes.png)\n\n");
    b.append("[live-passes.png](live-passes.png): every pre-copy pass of every run, remaining bytes at the pass against the"
        + " dirty rate QEMU measured; the line joins the passes of each method's median run. A method that converges drops"
        + " towards the x axis; one whose points stay high is outrun by its guest.\n\n");
    b.append("## All runs: medians [min – max]\n\n");
    b.append("Over the runs that completed (n of N); outcome counts over all runs. Total: source `migrate` → `completed`;"
        + " downtime: QEMU's (the pause where QEMU reported 0, as 7.2 sometimes does); pause: source STOP → `completed`; guest: its memory writer's rate during / before the"
        + " migration; predicted: Ferry's own prediction in its migration record (after a `--dry-run`), against actual;"
        + " silence: the connected client's longest silence minus QEMU's downtime (issue 11, goal ≤ 50 ms).\n\n");
    b.append("| workload | method | outcomes | total | downtime | pause | sent | guest during/before | predicted total / downtime | silence − downtime |\n");
    b.append("|---|---|---|---:|---:|---:|---:|---:|---|---:|\n");
    var errorsTotal = new ArrayList<Double>();
    var errorsDown = new ArrayList<Double>();
    for (Map<String, Object> w : (List<Map<String, Object>>) r.get("workloads")) {
      var medians = (Map<String, Map<String, Object>>) w.get("medians");
      if (medians == null) continue;
      var samples = (Map<String, List<Map<String, Object>>>) w.get("samples");
      for (var e : medians.entrySet()) {
        var s = e.getValue();
        b.append("| ").append(w.get("workload")).append(" | ").append(e.getKey())
            .append(" | ").append(outcomes(s))
            .append(" | ").append(spread(s.get("total_ms"), " ms", 1))
            .append(" | ").append(spread(s.get("downtime_ms"), " ms", 1))
            .append(" | ").append(spread(s.get("pause_ms"), " ms", 1))
            .append(" | ").append(spread(s.get("bytes_sent"), " MiB", 1048576))
            .append(" | ").append(spread(s.get("guest_rate_during_vs_before"), "", 1))
            .append(" | ").append(prediction(s))
            .append(" | ").append(spread(s.get("silence_minus_downtime_ms"), " ms", 1))
            .append(" |\n");
        if (samples != null && samples.get(e.getKey()) != null) {
          for (var run : samples.get(e.getKey())) {
            if (!Boolean.TRUE.equals(run.get("converged"))) continue;
            double et = LiveStats.error(run.get("predicted_total_ms"), run.get("total_ms"));
            double ed = LiveStats.error(run.get("predicted_downtime_ms"), run.get("downtime_qemu_ms"));
            if (!Double.isNaN(et)) errorsTotal.add(et);
            if (!Double.isNaN(ed)) errorsDown.add(ed);
          }
        }
      }
    }
    b.append('\n');
    b.append("## Ferry against the peers (medians, same run)\n\n");
    b.append("| workload | Ferry completed | peers completing every run | Ferry / best peer downtime (goal ≤ 1) | Ferry / fastest peer total (goal ≤ 1.1) |\n");
    b.append("|---|---|---|---:|---:|\n");
    for (Map<String, Object> w : (List<Map<String, Object>>) r.get("workloads")) {
      var v = (Map<String, Object>) w.get("ferry_vs_peers");
      if (v == null) continue;
      b.append("| ").append(w.get("workload"))
          .append(" | ").append(v.get("ferry_completed"))
          .append(" | ").append(v.get("peers_completing_every_run") instanceof List<?> l && !l.isEmpty() ? l : "none")
          .append(" | ").append(v.get("ferry_vs_best_peer_downtime") == null ? "—"
              : goal(v.get("ferry_vs_best_peer_downtime"), 1.0) + " (vs " + v.get("best_peer_downtime") + ")")
          .append(" | ").append(v.get("ferry_vs_fastest_peer_total") == null ? "—"
              : goal(v.get("ferry_vs_fastest_peer_total"), 1.1) + " (vs " + v.get("fastest_peer") + ")")
          .append(" |\n");
    }
    b.append('\n');
    for (Map<String, Object> w : (List<Map<String, Object>>) r.get("workloads")) {
      var v = (Map<String, Object>) w.get("ferry_vs_peers");
      if (v == null || v.get("ferry_vs_best_peer_downtime") == null) continue;
      double d = LiveStats.num(v.get("ferry_vs_best_peer_downtime"));
      double t = LiveStats.num(v.get("ferry_vs_fastest_peer_total"));
      b.append("- **").append(w.get("workload")).append("**: downtime goal ").append(d <= 1 ? "met" : String.format(Locale.ROOT,
          "**missed** by %.0f %%", (d - 1) * 100)).append(" (vs ").append(v.get("best_peer_downtime")).append("), total goal ")
          .append(t <= 1.1 ? "met" : String.format(Locale.ROOT, "**missed**: %.2f× the fastest peer", t)).append(" (vs ")
          .append(v.get("fastest_peer")).append(").\n");
    }
    b.append('\n');
    b.append(WHY);
    b.append(String.format(Locale.ROOT, "Ferry's prediction (issue 14 part 4, goal: median error within ±25 %%): median error of"
        + " the predicted total %s over %d completed runs, of the predicted downtime %s over %d.%n%n",
        pct(errorsTotal), errorsTotal.size(), pct(errorsDown), errorsDown.size()));
    if (r.get("peers") instanceof Map<?, ?> peers && !peers.isEmpty()) {
      b.append("## The peers, emulated from their sources\n\n");
      b.append("Each peer is a policy object (`Peer.java`): the capabilities and parameters it sets before `migrate`, and what"
          + " its monitor loop does while the migration runs, applied through the same agents and QMP path as every other"
          + " method, on the same guest and workload, in the same run. What is the same for all: the target is resumed by the"
          + " same agent call once the bench (polling the source every 50 ms) saw `completed`, so no peer's RPC stack"
          + " (libvirt's Finish/Confirm, Proxmox's tunnel `resume`) is in the figures; timeouts longer than the bench's"
          + " limit never fire here, and the bench's limit cuts such runs instead (outcome \"cut at the bench's limit\": the"
          + " peer itself would have gone on).\n\n");
      for (var e : ((Map<String, Map<String, Object>>) peers).entrySet()) {
        b.append("- **").append(e.getKey()).append("**: capabilities ").append(e.getValue().get("capabilities"))
            .append(", parameters ").append(e.getValue().get("parameters")).append(". ").append(e.getValue().get("reference"))
            .append(".\n");
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** What the run's Ferry does about downtime, and what this machine and QEMU 7.2 leave open. */
  static final String WHY = """
      How Ferry's default policy sets the pause (this run's code): QEMU switches over as soon as what is left fits in
      its downtime-limit at the bandwidth it measured, so the limit, not the allowance, decides the pause. Ferry starts
      the limit at a sixth of the allowance (50 ms of the default 300 ms; `LiveOptions.startDowntimeMs`) and, once a pass
      no longer shrinks what is left by a fifth, raises it to what the measured remainder needs at the measured
      bandwidth (QEMU's expected downtime plus a quarter), never above the allowance (`Convergence.judgeDowntimeLimit`,
      an escalation the record lists). Before this change QEMU got the whole 300 ms from the start, and a 16 MiB hot
      set paused 286 ms where Proxmox's 100 ms and Nova's 50 ms limits paused it 32–48 ms. Bandwidth stays uncapped
      (Ferry's 10 GiB/s, libvirt's and Nova's unlimited, Proxmox's 16 GiB/s all outrun loopback here). The target
      resumes on its own QEMU's `completed` event (`resume_on_arrival`, `AutoResume`): no controller poll and
      `finish` call between `completed` and `cont`; the peers' rows resume through the bench's poll and the same agent
      call, as a management layer that learns of the completion and then resumes. `pause-before-switchover` is set only
      when a disk mirror must be finished in the pause (`OutgoingRunner`), so it was already absent here.

      Post-copy with a bandwidth cap (issue 14 noted 0.8–1.25 s of downtime against 18–64 ms uncapped), measured apart
      from this run with `scripts/postcopy-cap-experiment.py` (two QEMU 7.2 on loopback over QMP alone, TCG, a 256 MiB − 8
      KiB guest with an unthrottled 96 MiB writer as LiveMigrationFaultsIT's hog, post-copy started on MIGRATION_PASS 2,
      downtime-limit 50 ms, cap 16 MiB/s, 3 interleaved runs per variant, load average 6.6–12 on 2 cores). QEMU's downtime,
      median [min … max], then the source's STOP to the target's RESUME: uncapped 33 [13 … 93] / 53 [32 … 156] ms; capped
      with max-postcopy-bandwidth = the cap (Ferry) 1058 [8 … 1722] / 1085 [111 … 1746] ms; capped with
      max-postcopy-bandwidth 0: 751 [13 … 754] / 774 [31 … 795] ms. Where it goes (QEMU trace events of the same runs,
      `scripts/postcopy-cap-breakdown.py`): 7.2's postcopy_start starts the clock before it takes the BQL and stops the
      vCPUs and ends it once the device-state package is flushed; every step took 0–9 ms (vCPU stop, discard bitmap, the
      32 KiB package and its flush: writes are never rate-limited, the limiter only sleeps in the migration thread's loop,
      outside postcopy_start) except one: the final dirty-bitmap sync in ram_postcopy_send_discard_bitmap
      (migration_bitmap_sync, whose TCG hook also waits for the vCPU thread with run_on_cpu): 207–1712 ms in the slow runs,
      6–70 ms in the others. What decides is how long after the previous sync the switch comes: 5–8 ms after it, the capped
      downtime was 6–8 ms; 100–165 ms after it (the thread had sent its 1.6 MiB for the 100 ms window and slept in
      migration_rate_limit, where migrate-start-postcopy also waits: command to STOP 60–160 ms), 207–1712 ms. Syncs are slow
      all through a capped migration: the end-of-pass-1 sync took 1.6–3.7 s capped against 0.09–0.41 s uncapped for the same
      ~24,750 dirty pages. So max-postcopy-bandwidth is not the cause (it takes effect only after the sync; with 0 the slow
      runs still paused 741–751 ms), and Ferry keeps it: it is what holds the user's cap on the link after the switch (the
      guest's faulted pages bypass it: a page request wakes the sleeping thread and is sent at once), and 0 would let the
      background stream run at link speed without lowering the pause. The cause, located by one more change: the same capped runs with -m 256M (a multiple of 256 KiB, so 7.2 syncs
      the bitmap a word at a time; the TCG page-loss bug then corrupted 1 of 2 guests, so for measurement only) synced
      the same ~24,750 pages in 3–4 ms and paused 1 and 3 ms although the switch came 98–100 ms after the last sync (2
      runs, load 2.0–2.3, so lighter load is a confound). So the pause is the page-at-a-time sync that MemoryPlan's
      RAM size (the workaround for that bug) selects under TCG; KVM guests keep their size (MemoryPlan). QMP gives
      Ferry no way to time the switch right after a sync (switching on the MIGRATION_PASS event, as here, still lands in
      the window about half the time); the postcopy-preempt capability and KVM were not measured.
      Reproduce: `export FERRY_GUEST_DIR=$(bash guest/build-guest.sh | tail -n1); flock /tmp/ferry-qemu.lock python3
      scripts/postcopy-cap-experiment.py --runs 3 --variants uncapped,capped,capped-pc0 --trace`, then
      `python3 scripts/postcopy-cap-breakdown.py /tmp/pcdown-*`.

      """;

  private static String outcomes(Map<String, Object> s) {
    if (!(s.get("outcomes") instanceof Map<?, ?> m)) return "—";
    var parts = new ArrayList<String>();
    for (var e : m.entrySet()) parts.add(e.getValue() + "× " + e.getKey());
    return String.join(", ", parts);
  }

  @SuppressWarnings("unchecked")
  private static String prediction(Map<String, Object> s) {
    if (!(s.get("predicted_total_ms") instanceof Map<?, ?>)) return "—";
    return spread(s.get("predicted_total_ms"), " ms", 1) + " / " + spread(s.get("predicted_downtime_ms"), " ms", 1);
  }

  @SuppressWarnings("unchecked")
  static String spread(Object v, String unit, double div) {
    if (!(v instanceof Map<?, ?> raw)) return "—";
    var m = (Map<String, Object>) raw;
    String f = div == 1 && unit.isEmpty() ? "%.2f" : div == 1 ? "%.0f" : "%.1f";
    String med = String.format(Locale.ROOT, f, LiveStats.num(m.get("median")) / div);
    String lo = String.format(Locale.ROOT, f, LiveStats.num(m.get("min")) / div);
    String hi = String.format(Locale.ROOT, f, LiveStats.num(m.get("max")) / div);
    return med + unit + " [" + lo + " – " + hi + "] n=" + m.get("n");
  }

  private static String goal(Object ratio, double limit) {
    double x = LiveStats.num(ratio);
    return x <= limit ? String.valueOf(ratio) : "**" + ratio + "**";
  }

  private static String pct(List<Double> errors) {
    if (errors.isEmpty()) return "n/a";
    var sorted = errors.stream().sorted().toList();
    return String.format(Locale.ROOT, "%+.0f %% [%+.0f … %+.0f %%]", LiveStats.median(sorted) * 100, sorted.getFirst() * 100,
        sorted.getLast() * 100);
  }
}
