package dev.ferry.app.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The live report's part about the connected client ({@link BenchNetwork}): how the network was
 * made, a table per workload, and where the silence beyond QEMU's downtime goes, from the agents'
 * timestamps of each switchover.
 */
final class LiveClientReport {

  /** the goal: a client's longest silence at most QEMU's downtime plus this */
  static final double GOAL_MS = 50;

  private LiveClientReport() {}

  static String intro(Map<String, Object> r) {
    if (r.get("network") == null) {
      Object why = r.get("no_network_because");
      return "**No connected client in this run**" + (why == null ? "" : " (" + why + ")") + ": the guests had no NIC, so"
          + " there are no silence figures.\n\n";
    }
    return String.format(Locale.ROOT, """
        Every guest has a virtio-net NIC on a network the bench makes for its run exactly as `ferry cluster up`
        makes `default` (%s; removed at the end) and gets its address by DHCP. A client in that namespace holds
        one TCP connection to the guest's stream service (a numbered line every 10 ms, echoing what the client
        sends every 100 ms) from 1 s before the migration until 100 lines after it, and checks every line
        (no gap, duplicate, reorder or reset: *clean*). **Longest silence** is the longest time between two
        lines from just before the migration on; it is compared with QEMU's downtime (goal: at most downtime +
        %.0f ms). **At switchover** is the silence around the target's resume; **STOP → resume** is the source
        QEMU's STOP event (its agent's record) to the target agent's answered `cont`, and **completed → resume**
        its part after the source's `completed`; **first line** is the target's resume to the first line the
        client got. Every method resumes the target through the same agent code, which sends
        `announce-self` right after `cont` (QEMU 7.2's own announce defaults: 5 rounds, 50 ms then 100 ms apart):
        for ferry the target agent runs it on its own QEMU's `completed` event (`resume_on_arrival`, which the
        controller asks for); for every other method the bench asks the source every 50 ms whether it completed and
        then calls the target's finish, as a management layer that learns of the completion and then resumes. The NICs run without vhost: Ferry uses vhost-net only when `/dev/vhost-net` is usable and KVM is
        on, and this machine has neither.

        """, r.get("network"), GOAL_MS);
  }

  static String table(Map<String, Map<String, Object>> runs) {
    if (runs.values().stream().noneMatch(run -> run.containsKey("silence_ms"))) return "";
    var b = new StringBuilder();
    b.append("What the connected client saw:\n\n");
    b.append("| method | longest silence | silence − downtime | goal met | at switchover | STOP → resume | completed → resume | first line after resume | clean |\n");
    b.append("|---|---:|---:|---|---:|---:|---:|---:|---|\n");
    for (Map<String, Object> run : runs.values()) {
      if (!run.containsKey("silence_ms")) continue;
      Object over = run.get("silence_minus_downtime_ms");
      b.append("| ").append(run.get("method"))
          .append(" | ").append(ms(run.get("silence_ms")))
          .append(" | ").append(ms(over)).append(run.containsKey("silence_compared_with") ? " ¹" : "")
          .append(" | ").append(over instanceof Number n ? (n.doubleValue() <= GOAL_MS ? "yes" : "**no**") : "—")
          .append(" | ").append(ms(run.get("silence_at_switchover_ms")))
          .append(" | ").append(ms(run.get("source_stop_to_target_resume_ms")))
          .append(" | ").append(ms(run.get("completed_to_target_resume_ms")))
          .append(" | ").append(ms(run.get("first_reply_after_resume_ms")))
          .append(" | ").append(Boolean.TRUE.equals(run.get("stream_clean")) ? "yes" : "**no**: " + run.get("stream_problems"))
          .append(" |\n");
    }
    if (runs.values().stream().anyMatch(run -> run.containsKey("silence_compared_with"))) {
      b.append("\n¹ QEMU reported a downtime of 0 ms: compared with the source's STOP → completed instead.\n");
    }
    return b.append('\n').toString();
  }

  /** Where the client's silence went, from every switchover of the run; empty without a client. */
  @SuppressWarnings("unchecked")
  static List<String> findings(Map<String, Object> r) {
    var out = new ArrayList<String>();
    var all = new ArrayList<Map<String, Object>>();
    for (Map<String, Object> w : (List<Map<String, Object>>) r.get("workloads")) {
      var runs = (Map<String, Map<String, Object>>) w.get("runs");
      var met = new ArrayList<String>();
      var missed = new ArrayList<String>();
      for (Map<String, Object> run : runs.values()) {
        if (!(run.get("silence_minus_downtime_ms") instanceof Number n)) continue;
        (n.doubleValue() <= GOAL_MS ? met : missed).add(run.get("method") + " +" + Math.round(n.doubleValue()) + " ms");
        if (run.containsKey("source_stop_to_target_resume_ms")) all.add(run);
      }
      if (met.isEmpty() && missed.isEmpty()) continue;
      out.add("**" + w.get("workload") + "**, the client's longest silence beyond QEMU's downtime: "
          + String.join(", ", missed.isEmpty() ? met : missed) + (missed.isEmpty() ? ": the goal (≤ +50 ms) is met."
          : ": the goal (≤ +50 ms) is **not met**" + (met.isEmpty() ? "" : " (met by " + String.join(", ", met) + ")") + "."));
    }
    if (all.isEmpty()) return out;
    long unclean = all.stream().filter(run -> !Boolean.TRUE.equals(run.get("stream_clean"))).count();
    long elsewhere = all.stream().filter(run -> num(run.get("silence_at_switchover_ms")) + 1 < num(run.get("silence_ms"))).count();
    out.add(String.format(Locale.ROOT, "Where the silence goes (means over the %d switchovers of this run): the client hears"
        + " nothing from the source's STOP until the target's `cont` (%.0f ms), of which QEMU's own STOP → completed, the"
        + " pause its downtime figure describes, is %.0f ms and completed → the target's `cont` %.0f ms; then the guest on the"
        + " target takes %.0f ms to its first line although it writes one every 10 ms. Silence across the switchover: %.0f ms"
        + " (longest silence %.0f ms%s). %s",
        all.size(), mean(all, "source_stop_to_target_resume_ms"), mean(all, "pause_ms"),
        mean(all, "completed_to_target_resume_ms"), mean(all, "first_reply_after_resume_ms"),
        mean(all, "silence_at_switchover_ms"), mean(all, "silence_ms"),
        elsewhere == 0 ? "" : "; in " + elsewhere + " run(s) the longest silence was not the switchover but a stall of the"
            + " source guest while it was copied, under TCG on 2 shared cores",
        unclean == 0 ? "Every connection stayed clean: no reset, gap, duplicate or reorder." : unclean + " connection(s) were not clean (see the tables)."));
    out.add("Completed → `cont` is orchestration, outside QEMU's downtime figure: the target QEMU runs with `-S` and resumes"
        + " only when told. For ferry the target's agent now tells it on its own QEMU's `completed` event (it persists the"
        + " point of no return, sends `cont`, then announces); for the other methods the bench first has to see the"
        + " source's `completed` (a 50 ms poll) and call the target's finish. Compare the completed → resume column"
        + " between ferry and the peers for what that saves.");
    out.add("STOP → first line on the target is the guest's: the target QEMU has never executed this guest's code, so under TCG"
        + " every path it takes after `cont` (timer interrupt, scheduler, virtio-net, TCP, the service) is translated anew"
        + " before it runs, and the guest's load/resume on the target is not in QEMU's downtime figure either. That"
        + " explanation fits the numbers (tens of ms, more when a memory writer competes for the vCPU) but this run does not"
        + " isolate it: the agents offer no pause/resume to time a warm-cache wake-up of the same guest. The network is not"
        + " it: the guest's lines reach the client through the bridge whatever its forwarding table says about the guest's"
        + " MAC, and the announce is sent right after `cont` in every method.");
    return out;
  }

  private static double mean(List<Map<String, Object>> runs, String key) {
    return runs.stream().map(run -> run.get(key)).filter(Number.class::isInstance).mapToDouble(v -> ((Number) v).doubleValue())
        .average().orElse(Double.NaN);
  }

  private static double num(Object v) {
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private static String ms(Object v) {
    return v instanceof Number n ? Math.round(n.doubleValue()) + " ms" : "—";
  }
}
